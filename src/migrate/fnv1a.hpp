// FNV-1a, 64 bits: the content hashes of checkpoints and the checksums of migrations.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace mongo_orm::migrate::detail {

class Fnv1a64 {
 public:
  Fnv1a64& add(const uint8_t* bytes, std::size_t length) noexcept {
    for (std::size_t i = 0; i < length; ++i) {
      hash_ ^= bytes[i];
      hash_ *= 1099511628211ULL;
    }
    return *this;
  }
  Fnv1a64& add(std::string_view text) noexcept {
    return add(reinterpret_cast<const uint8_t*>(text.data()), text.size());
  }
  uint64_t value() const noexcept { return hash_; }

 private:
  uint64_t hash_ = 14695981039346656037ULL;
};

}  // namespace mongo_orm::migrate::detail
