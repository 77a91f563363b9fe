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

}  // namespace mlpot
