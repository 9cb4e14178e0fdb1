#!/bin/sh
# Build llama.cpp's llama-server from source, once per version and CPU, into a cache outside
# the checkout; print the binary's path. The source is the llama-cpp-python source
# distribution, which vendors llama.cpp (tools/build-llama-binding.sh builds llama.cpp's Python
# binding from the same source, and keeps its GGUF converter).
#   tools/build-llama-server.sh            build if needed, print the path
# The first build takes about 11 minutes on two cores; later calls return at once.
set -eu

VERSION=0.3.36  # llama-cpp-python; its vendor/llama.cpp is what gets built
PYTHON=${PYTHON:-python3}
CPU=$(grep -m1 '^flags' /proc/cpuinfo 2>/dev/null | cksum | cut -d' ' -f1)  # native build: per CPU
CACHE=${TALETREE_SERVER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/taletree/llama-server}
HOME_DIR=$CACHE/$VERSION-$CPU
SERVER=$HOME_DIR/bin/llama-server

if [ -x "$SERVER" ]; then
    echo "$SERVER"
    exit 0
fi
command -v cmake >/dev/null || { echo "building llama-server needs cmake: apt-get install cmake" >&2; exit 2; }

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
echo "building llama-server $VERSION into $HOME_DIR (about 11 minutes, once)" >&2
"$PYTHON" -m pip download --quiet --no-deps --no-binary :all: "llama-cpp-python==$VERSION" -d "$WORK" >&2
tar xzf "$WORK"/llama_cpp_python-$VERSION.tar.gz -C "$WORK"
SOURCE=$WORK/llama_cpp_python-$VERSION/vendor/llama.cpp
cmake -S "$SOURCE" -B "$WORK/build" -DCMAKE_BUILD_TYPE=Release -DGGML_NATIVE=ON \
    -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_SERVER=ON \
    -DLLAMA_OPENSSL=OFF -DBUILD_SHARED_LIBS=OFF >&2
cmake --build "$WORK/build" --target llama-server -j "$(nproc)" >&2

# Assemble beside a temporary name, then move into place: a build cut short leaves nothing.
PARTIAL=$HOME_DIR.partial
rm -rf "$PARTIAL"
mkdir -p "$PARTIAL/bin"
cp "$WORK/build/bin/llama-server" "$PARTIAL/bin/"
rm -rf "$HOME_DIR"
mv "$PARTIAL" "$HOME_DIR"
echo "$SERVER"
