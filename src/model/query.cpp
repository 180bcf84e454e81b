// Filter composition and the operator filters that need no template.
#include "mongo_orm/model/query.hpp"

#include <cctype>

namespace mongo_orm::model {

namespace {
// Joins filters under one logical operator, flattening nested uses of the same operator.
Filter combine(std::string_view op, const std::vector<const Filter*>& parts) {
  bson::Builder filter;
  filter.append(op, [&](bson::ArrayBuilder& list) {
    for (const Filter* part : parts) {
      const bson::Document& doc = part->document();
      auto only = doc.begin();
      bool single_same_op = false;
      if (only != doc.end() && (*only).key() == op) {
        auto after = doc.begin();
        ++after;
        single_same_op = after == doc.end();
      }
      if (single_same_op) {
        for (bson::Element nested : (*only).as_array()) list.append(nested);
      } else {
        list.append(doc.view());
      }
    }
  });
  return filter.extract();
}

std::vector<const Filter*> pointers(const std::vector<Filter>& filters) {
  std::vector<const Filter*> out;
  for (const Filter& f : filters) out.push_back(&f);
  return out;
}
}  // namespace

Filter operator&&(const Filter& a, const Filter& b) { return combine("$and", {&a, &b}); }
Filter operator||(const Filter& a, const Filter& b) { return combine("$or", {&a, &b}); }
Filter operator!(const Filter& a) {
  return bson::Builder{}.append("$nor", [&](bson::ArrayBuilder& list) { list.append(a.document().view()); }).extract();
}

std::string regex_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size() + text.size() / 4);
  for (char c : text) {
    auto u = static_cast<unsigned char>(c);
    if (u == 0) {
      out += "\\x00";
    } else if (u < 0x80 && !std::isalnum(u) && c != '_') {
      out += '\\';
      out += c;
    } else {
      out += c;
    }
  }
  return out;
}

Filter all_of(const std::vector<Filter>& filters) { return combine("$and", pointers(filters)); }
Filter any_of(const std::vector<Filter>& filters) { return combine("$or", pointers(filters)); }
Filter none_of(const std::vector<Filter>& filters) { return combine("$nor", pointers(filters)); }

namespace detail {

Filter exists_filter(const std::string& path, bool exists) {
  return bson::Builder{}.append(path, [&](bson::Builder& c) { c.append("$exists", exists); }).extract();
}

Filter type_filter(const std::string& path, bson::Type type) {
  return bson::Builder{}.append(path, [&](bson::Builder& c) { c.append("$type", bson::type_name(type)); }).extract();
}

Filter size_filter(const std::string& path, int64_t size) {
  return bson::Builder{}.append(path, [&](bson::Builder& c) { c.append("$size", size); }).extract();
}

Filter regex_filter(const std::string& path, const std::string& pattern, const std::string& options) {
  return bson::Builder{}
      .append(path, [&](bson::Builder& c) { c.append("$regex", pattern).append("$options", options); })
      .extract();
}

Filter literal_filter(const std::string& path, std::string_view text, TextAnchor anchor, bool ignore_case) {
  std::string pattern = anchor == TextAnchor::start || anchor == TextAnchor::whole ? "^" : "";
  pattern += regex_escape(text);
  if (anchor == TextAnchor::end || anchor == TextAnchor::whole) pattern += "\\z";
  return regex_filter(path, pattern, ignore_case ? "i" : "");
}

Filter elem_match_filter(const std::string& path, const Filter& condition) {
  return bson::Builder{}
      .append(path, [&](bson::Builder& c) { c.append("$elemMatch", condition.document().view()); })
      .extract();
}

}  // namespace detail
}  // namespace mongo_orm::model
