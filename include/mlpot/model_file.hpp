#pragma once
// What a model file is, from its first bytes rather than its name: the CLI picks its loader by
// it, and each loader names what it was given instead when it is the other kind.
#include <fstream>
#include <string>

namespace mlpot {

// The first n bytes of the file at path (fewer if it is shorter, none if it cannot be read).
inline std::string file_head(const std::string& path, std::size_t n = 4) {
  std::string head(n, '\0');
  std::ifstream in(path, std::ios::binary);
  in.read(&head[0], static_cast<std::streamsize>(n));
  head.resize(static_cast<std::size_t>(in.gcount()));
  return head;
}

// PyTorch writes models, TorchScript and torch.save alike, as zip archives.
inline bool is_zip_archive(const std::string& head) { return head.rfind(std::string("PK\x03\x04", 4), 0) == 0; }

// Whether a model file goes to the MACE loader: named .pt/.pth, or any zip archive (PyTorch's
// format), so that mace-torch's *.model reaches the MACE loader and its message, not the MTP
// parser's. Everything else is read as an MTP file. (The CLI and the Python package.)
inline bool is_mace_model_file(const std::string& path) {
  auto ends = [&](const char* e) {
    const std::string s(e);
    return path.size() >= s.size() && path.compare(path.size() - s.size(), s.size(), s) == 0;
  };
  return ends(".pt") || ends(".pth") || is_zip_archive(file_head(path));
}

}  // namespace mlpot
