"""A copy of llama-cpp-python's wheel with llama.cpp's shared libraries in its llama_cpp/lib/,
where the binding looks for them, and its RECORD brought up to date (pip checks it).

    python tools/wheel_with_libraries.py BARE.whl OUT_DIR LIBRARY...

tools/build-llama-cpp.sh builds the libraries once for llama-server and the binding alike."""

import base64
import hashlib
import sys
import zipfile
from pathlib import Path


def record_line(name: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


def main(bare: Path, out_dir: Path, libraries: list[Path]) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(bare) as source:
        entries = {info.filename: source.read(info) for info in source.infolist()}
    record = next(name for name in entries if name.endswith(".dist-info/RECORD"))
    for library in libraries:
        entries[f"llama_cpp/lib/{library.name}"] = library.read_bytes()  # links followed
    lines = [record_line(name, data) for name, data in entries.items() if name != record]
    entries[record] = ("\n".join([*lines, f"{record},,"]) + "\n").encode()
    with zipfile.ZipFile(out_dir / bare.name, "w", zipfile.ZIP_DEFLATED) as wheel:
        for name, data in entries.items():
            wheel.writestr(name, data)


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]), [Path(p) for p in sys.argv[3:]])
