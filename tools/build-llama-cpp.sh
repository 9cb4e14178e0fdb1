#!/bin/sh
# Build llama.cpp from source once per version and CPU, into a cache outside the checkout:
# llama-server (for the tests and benchmarks), llama.cpp's Python binding (llama-cpp-python,
# whose low-level module mirrors llama.h) as a wheel holding the very same shared libraries,
# and llama.cpp's GGUF converter beside them (for `taletree convert`). The source is the
# llama-cpp-python source distribution, which vendors llama.cpp: one compile serves both.
#   tools/build-llama-cpp.sh server     build if needed; print llama-server's path
#   tools/build-llama-cpp.sh binding    build if needed; print the wheel's path
# The first build takes about 6 minutes on two cores; later calls return at once. On a machine
# with an NVIDIA GPU (nvidia-smi lists one) and CUDA's compiler (nvcc), it is built with its
# CUDA backend; a CUDA compiler without a GPU builds for the CPU.
set -eu

VERSION=0.3.36  # llama-cpp-python; engine/gguf/binding.py names the same release
WANTED=${1:-}
PYTHON=${PYTHON:-python3}
CPU=$(grep -m1 '^flags' /proc/cpuinfo 2>/dev/null | cksum | cut -d' ' -f1)  # native build: per CPU
GPU=""
if nvidia-smi -L >/dev/null 2>&1 && command -v nvcc >/dev/null; then
    GPU="-cuda"
fi
CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/taletree
HOME_DIR=$CACHE/llama.cpp-$VERSION/$CPU$GPU
CONVERTER=$CACHE/llama.cpp-$VERSION/converter  # where engine/gguf/convert.py looks

answer() {
    case $WANTED in
        server) echo "$HOME_DIR/bin/llama-server" ;;
        binding) ls "$HOME_DIR"/wheel/llama_cpp_python-$VERSION-*.whl | head -n1 ;;
    esac
}
case $WANTED in
    server|binding) ;;
    *) echo "usage: $0 server|binding" >&2; exit 2 ;;
esac
if [ -x "$HOME_DIR/bin/llama-server" ] && [ -f "$CONVERTER/convert_hf_to_gguf.py" ]; then
    answer
    exit 0
fi
command -v cmake >/dev/null || { echo "building llama.cpp needs cmake: apt-get install cmake" >&2; exit 2; }

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
echo "building llama.cpp $VERSION into $HOME_DIR (about 6 minutes, once)" >&2
"$PYTHON" -m pip download --quiet --no-deps --no-binary :all: "llama-cpp-python==$VERSION" -d "$WORK" >&2
tar xzf "$WORK"/llama_cpp_python-$VERSION.tar.gz -C "$WORK"
SOURCE=$WORK/llama_cpp_python-$VERSION
LLAMA=$SOURCE/vendor/llama.cpp
CUDA=""
[ -n "$GPU" ] && CUDA="-DGGML_CUDA=ON"
# Shared libraries that find each other beside themselves ($ORIGIN), as the binding's own build
# makes them, so the server and the binding can run on the same files.
cmake -S "$LLAMA" -B "$WORK/build" -DCMAKE_BUILD_TYPE=Release -DGGML_NATIVE=ON $CUDA \
    -DBUILD_SHARED_LIBS=ON -DCMAKE_BUILD_RPATH_USE_ORIGIN=ON -DLLAMA_BUILD_COMMON=ON \
    -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_SERVER=ON \
    -DLLAMA_OPENSSL=OFF -DLLAMA_CURL=OFF >&2
cmake --build "$WORK/build" --target llama-server llama -j "$(nproc)" >&2
# The binding's Python package alone (no second compile), then these libraries put into it.
CMAKE_ARGS="-DLLAMA_BUILD=OFF -DLLAVA_BUILD=OFF" \
    "$PYTHON" -m pip wheel --quiet --no-deps "$SOURCE" -w "$WORK/bare" >&2
"$PYTHON" "$(dirname "$0")/wheel_with_libraries.py" "$WORK"/bare/*.whl "$WORK/wheel" \
    "$WORK"/build/bin/libllama.so* "$WORK"/build/bin/libggml*.so* >&2

# Assemble beside temporary names, then move into place: a build cut short leaves nothing.
rm -rf "$HOME_DIR.partial" "$CONVERTER.partial"
mkdir -p "$HOME_DIR.partial/bin" "$CONVERTER.partial"
cp "$WORK"/build/bin/llama-server "$WORK"/build/bin/lib*.so* "$HOME_DIR.partial/bin/"
cp -r "$WORK/wheel" "$HOME_DIR.partial/wheel"
cp -r "$LLAMA/convert_hf_to_gguf.py" "$LLAMA/conversion" "$LLAMA/gguf-py" "$CONVERTER.partial/"
rm -rf "$HOME_DIR" "$CONVERTER"
mv "$HOME_DIR.partial" "$HOME_DIR"
mv "$CONVERTER.partial" "$CONVERTER"
answer
