// Runs a fuzz target's LLVMFuzzerTestOneInput over every file of the directories it is given,
// so kept crashers and seeds replay in every build, with any compiler and without libFuzzer.
// A missing directory counts as empty (a target may have no regressions yet); dot files and
// README files are skipped. Exits non-zero only if no directory was named; a failing input
// crashes or aborts the process, naming itself on stderr first.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace fs = std::filesystem;

namespace {

std::vector<fs::path> inputs_of(const fs::path& dir) {
  std::vector<fs::path> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    if (!e.is_regular_file() || name.starts_with(".") || name.starts_with("README")) continue;
    out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());  // a stable order, so a failure reproduces the same way
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s DIR...\n", argv[0]);
    return 64;
  }
  size_t runs = 0;
  for (int i = 1; i < argc; ++i) {
    for (const fs::path& p : inputs_of(argv[i])) {
      std::ifstream in(p, std::ios::binary);
      const std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      std::fprintf(stderr, "replay %s (%zu bytes)\n", p.c_str(), bytes.size());
      // A copy of exactly the input's size: ASan then sees reads past its end.
      const std::vector<uint8_t> exact(bytes);
      LLVMFuzzerTestOneInput(exact.data(), exact.size());
      ++runs;
    }
  }
  std::printf("%zu inputs replayed\n", runs);
  return 0;
}
