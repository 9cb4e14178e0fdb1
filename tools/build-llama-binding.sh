#!/bin/sh
# Build llama.cpp's Python binding (llama-cpp-python, whose low-level module mirrors llama.h)
# from its source distribution, once per version and CPU, into a cache outside the checkout;
# keep llama.cpp's GGUF converter beside it (for `taletree convert`); print the wheel's path.
# The source is the one tools/build-llama-server.sh builds llama-server from.
#   tools/build-llama-binding.sh            build if needed, print the wheel's path
# The first build takes about 5 minutes on two cores; later calls return at once. On a machine
# with an NVIDIA GPU (nvidia-smi lists one) and CUDA's compiler (nvcc), it is built with its
# CUDA backend; a CUDA compiler without a GPU builds for the CPU.
set -eu

VERSION=0.3.36  # llama-cpp-python; engine/gguf/binding.py names the same release
PYTHON=${PYTHON:-python3}
CPU=$(grep -m1 '^flags' /proc/cpuinfo 2>/dev/null | cksum | cut -d' ' -f1)  # native build: per CPU
GPU=""
if nvidia-smi -L >/dev/null 2>&1 && command -v nvcc >/dev/null; then
    GPU="-cuda"
fi
CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/taletree
WHEELS=$CACHE/llama-binding/$VERSION-$CPU$GPU
CONVERTER=$CACHE/llama.cpp-$VERSION/converter  # where engine/gguf/convert.py looks

found() { ls "$WHEELS"/llama_cpp_python-$VERSION-*.whl 2>/dev/null | head -n1; }
if [ -n "$(found)" ] && [ -f "$CONVERTER/convert_hf_to_gguf.py" ]; then
    found
    exit 0
fi
command -v cmake >/dev/null || { echo "building llama.cpp needs cmake: apt-get install cmake" >&2; exit 2; }

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
echo "building llama.cpp's binding $VERSION into $WHEELS (about 5 minutes, once)" >&2
"$PYTHON" -m pip download --quiet --no-deps --no-binary :all: "llama-cpp-python==$VERSION" -d "$WORK" >&2
tar xzf "$WORK"/llama_cpp_python-$VERSION.tar.gz -C "$WORK"
SOURCE=$WORK/llama_cpp_python-$VERSION
CUDA=""
[ -n "$GPU" ] && CUDA="-DGGML_CUDA=ON"
CMAKE_ARGS="-DGGML_NATIVE=ON -DLLAVA_BUILD=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF \
-DLLAMA_BUILD_TOOLS=OFF -DLLAMA_BUILD_SERVER=OFF $CUDA" \
    "$PYTHON" -m pip wheel --quiet --no-deps "$SOURCE" -w "$WORK/wheel" >&2

# Assemble beside temporary names, then move into place: a build cut short leaves nothing.
mkdir -p "$(dirname "$WHEELS")" "$(dirname "$CONVERTER")"
rm -rf "$WHEELS.partial" "$CONVERTER.partial"
mkdir -p "$WHEELS.partial" "$CONVERTER.partial"
cp "$WORK"/wheel/*.whl "$WHEELS.partial/"
LLAMA=$SOURCE/vendor/llama.cpp
cp -r "$LLAMA/convert_hf_to_gguf.py" "$LLAMA/conversion" "$LLAMA/gguf-py" "$CONVERTER.partial/"
rm -rf "$WHEELS" "$CONVERTER"
mv "$WHEELS.partial" "$WHEELS"
mv "$CONVERTER.partial" "$CONVERTER"
found
