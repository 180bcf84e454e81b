// Drives the fuzz target without libFuzzer: a seeded corpus of valid documents (models
// encoded with random values, plus hand-picked edge cases), mutated at random for a fixed
// time. Structure-aware mutations (element type bytes, length fields, splices) get past the
// length check far more often than random bytes do.
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "model/models.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

using namespace mongo_orm;
using Bytes = std::vector<uint8_t>;

Bytes bytes_of(const bson::Document& doc) { return Bytes(doc.data(), doc.data() + doc.length()); }

std::string random_text(std::mt19937_64& rng) {
  static const char* samples[] = {"", "a", "Ada", "10115", "ü", "日本", "😀", "\xc3\x28", "$ne", "a.b", "Human.Dog"};
  return samples[rng() % (sizeof samples / sizeof *samples)];
}

// The user as the model stores it; with invalid UTF-8, which the encoder refuses, the same
// fields written by hand, as another client could have stored them.
bson::Document stored_user(const app::User& u) {
  try {
    bson::Builder b;
    model::schema_of<app::User>().encode(b.native(), u);
    return b.extract();
  } catch (const InvalidRequestError&) {
    bson::Builder b;
    b.append("_id", u.id).append("name", std::string_view(u.name)).append("age", u.age);
    if (u.nickname) b.append("nickname", std::string_view(*u.nickname));
    for (const auto& a : u.previous_addresses) {
      b.append("previous_addresses", [&](bson::ArrayBuilder& list) {
        list.append([&](bson::Builder& d) { d.append("street", std::string_view(a.street)).append("city", std::string_view(a.city)); });
      });
      break;
    }
    return b.extract();
  }
}

std::vector<Bytes> seed_corpus(std::mt19937_64& rng) {
  std::vector<Bytes> corpus;
  for (int i = 0; i < 64; ++i) {
    app::User u = app::sample_user();
    u.name = random_text(rng);
    u.age = static_cast<int32_t>(rng() % 300) - 50;
    if (rng() % 2) u.nickname = random_text(rng);
    if (rng() % 2) u.previous_addresses.push_back({random_text(rng), random_text(rng), "12345", app::Point{1, 2}});
    u.counters["k" + std::to_string(i)] = static_cast<int32_t>(rng());
    u.status = static_cast<app::Status>(rng() % 3);
    if (rng() % 3 == 0) u.credit = bson::Decimal128::from_string("1.5");
    corpus.push_back(bytes_of(stored_user(u)));
  }
  for (const char* json : {
           R"({"_id": 1, "_cls": "Animal.Dog", "name": "Rex", "tricks": ["sit"], "scores": {"a": 1.5}})",
           R"({"_id": 2, "_cls": "Animal.Cat", "name": "Tom", "mood": "banned"})",
           R"({"_id": 3, "_cls": "Animal.Bird"})",
           R"({"_id": 4, "_cls": 7})",
           R"({"_id": 5, "label": "x", "extra": [1, [2, [3]]]})",
           R"({"address": {"geo": [1.0, 2.0, 3.0]}, "tags": [1, "a", null], "counters": {"x": 1.5}})",
           R"({"a": {"b": {"c": {"d": {"e": {}}}}}})",
       }) {
    corpus.push_back(bytes_of(bson::from_json(json)));
  }
  return corpus;
}

void fix_length(Bytes& b) {
  uint32_t n = static_cast<uint32_t>(b.size());
  if (b.size() >= 4) std::memcpy(b.data(), &n, 4);
}

void mutate(Bytes& b, const std::vector<Bytes>& corpus, std::mt19937_64& rng) {
  static const uint8_t types[] = {0x01, 0x02, 0x03, 0x04, 0x05, 0x07, 0x08, 0x09, 0x0A, 0x0B,
                                  0x10, 0x11, 0x12, 0x13, 0x7F, 0xFF, 0x00, 0x42};
  int rounds = 1 + static_cast<int>(rng() % 6);
  for (int r = 0; r < rounds && b.size() > 5; ++r) {
    std::size_t at = 4 + rng() % (b.size() - 5);
    switch (rng() % 8) {
      case 0: b[at] ^= static_cast<uint8_t>(1u << (rng() % 8)); break;
      case 1: b[at] = types[rng() % sizeof types]; break;
      case 2: b[at] = static_cast<uint8_t>(rng()); break;
      case 3: b.erase(b.begin() + static_cast<std::ptrdiff_t>(at)); break;
      case 4: b.insert(b.begin() + static_cast<std::ptrdiff_t>(at), static_cast<uint8_t>(rng())); break;
      case 5: {  // overwrite an int32 (often a nested length)
        uint32_t v = rng() % 4 == 0 ? 0xFFFFFFFFu : static_cast<uint32_t>(rng() % 64);
        if (at + 4 <= b.size()) std::memcpy(b.data() + at, &v, 4);
        break;
      }
      case 6: {  // splice in part of another document
        const Bytes& other = corpus[rng() % corpus.size()];
        std::size_t from = rng() % other.size();
        std::size_t len = std::min<std::size_t>(rng() % 32, other.size() - from);
        b.insert(b.begin() + static_cast<std::ptrdiff_t>(at), other.begin() + static_cast<std::ptrdiff_t>(from),
                 other.begin() + static_cast<std::ptrdiff_t>(from + len));
        break;
      }
      default: b.resize(at + 1); b.back() = 0; break;  // truncate, keep a terminator
    }
  }
  if (rng() % 8 != 0) fix_length(b);  // mostly keep the header consistent so decoding runs
}

}  // namespace

int main(int argc, char** argv) {
  double seconds = 10;
  uint64_t seed = 20261124;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    if (flag == "--seconds") seconds = std::stod(argv[i + 1]);
    if (flag == "--seed") seed = std::stoull(argv[i + 1]);
  }
  std::mt19937_64 rng(seed);
  std::vector<Bytes> corpus = seed_corpus(rng);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  uint64_t runs = 0;
  for (const Bytes& b : corpus) LLVMFuzzerTestOneInput(b.data(), b.size());
  while (std::chrono::steady_clock::now() < deadline) {
    for (int batch = 0; batch < 256; ++batch, ++runs) {
      Bytes input = corpus[rng() % corpus.size()];
      mutate(input, corpus, rng);
      LLVMFuzzerTestOneInput(input.data(), input.size());
      if (rng() % 64 == 0 && input.size() < 4096) corpus.push_back(std::move(input));
    }
  }
  std::printf("fuzz: %llu inputs in %.0f s (seed %llu), corpus %zu, no finding\n",
              static_cast<unsigned long long>(runs), seconds, static_cast<unsigned long long>(seed), corpus.size());
  return 0;
}
