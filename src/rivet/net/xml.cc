#include "rivet/net/xml.h"

#include <charconv>
#include <cstdint>

namespace rivet::net {

namespace {

constexpr size_t kNpos = std::string_view::npos;

bool EndsName(char c) {
  return c == '>' || c == '/' || c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

// Just past the '>' that ends the markup opened at `open` (a '<'), quoted attribute values
// skipped; kNpos when the document ends first.
size_t MarkupEnd(std::string_view body, size_t open) {
  char quote = 0;
  for (size_t i = open + 1; i < body.size(); ++i) {
    const char c = body[i];
    if (quote != 0) {
      if (c == quote) quote = 0;
    } else if (c == '"' || c == '\'') {
      quote = c;
    } else if (c == '>') {
      return i + 1;
    }
  }
  return kNpos;
}

// Just past the comment, CDATA section, processing instruction or declaration opened at `open`;
// `open` itself when the markup there is an element's tag; kNpos when it is not closed.
size_t SkipNonElement(std::string_view body, size_t open) {
  const std::string_view rest = body.substr(open);
  auto past = [&](std::string_view start, std::string_view end) {
    const size_t at = body.find(end, open + start.size());
    return at == kNpos ? kNpos : at + end.size();
  };
  if (rest.starts_with("<!--")) return past("<!--", "-->");
  if (rest.starts_with("<![CDATA[")) return past("<![CDATA[", "]]>");
  if (rest.starts_with("<?")) return past("<?", "?>");
  if (rest.starts_with("<!")) return MarkupEnd(body, open);
  return open;
}

bool NameAt(std::string_view body, size_t at, std::string_view tag) {
  return body.substr(at).starts_with(tag) && at + tag.size() < body.size() &&
         EndsName(body[at + tag.size()]);
}

void AppendUtf8(uint32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

// A character reference's digits ("x1F", "65") as a code point XML allows; false otherwise.
bool CharacterReference(std::string_view digits, uint32_t* cp) {
  int base = 10;
  if (!digits.empty() && (digits.front() == 'x' || digits.front() == 'X')) {
    base = 16;
    digits.remove_prefix(1);
  }
  if (digits.empty()) return false;
  const char* end = digits.data() + digits.size();
  auto [ptr, ec] = std::from_chars(digits.data(), end, *cp, base);
  if (ec != std::errc() || ptr != end) return false;
  return *cp != 0 && *cp <= 0x10FFFF && !(*cp >= 0xD800 && *cp <= 0xDFFF);
}

std::optional<std::string> DecodeEntities(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    if (text[i] != '&') {
      out.push_back(text[i++]);
      continue;
    }
    const size_t semi = text.find(';', i);
    if (semi == kNpos || semi - i > 12) return std::nullopt;
    const std::string_view name = text.substr(i + 1, semi - i - 1);
    uint32_t cp = 0;
    if (name == "amp") {
      out.push_back('&');
    } else if (name == "lt") {
      out.push_back('<');
    } else if (name == "gt") {
      out.push_back('>');
    } else if (name == "quot") {
      out.push_back('"');
    } else if (name == "apos") {
      out.push_back('\'');
    } else if (name.starts_with('#') && CharacterReference(name.substr(1), &cp)) {
      AppendUtf8(cp, &out);
    } else {
      return std::nullopt;
    }
    i = semi + 1;
  }
  return out;
}

}  // namespace

std::optional<std::string_view> XmlElement(std::string_view body, std::string_view tag) {
  if (tag.empty()) return std::nullopt;
  int depth = 0;
  size_t content = 0;
  size_t i = 0;
  while ((i = body.find('<', i)) != kNpos) {
    const size_t skipped = SkipNonElement(body, i);
    if (skipped == kNpos) return std::nullopt;
    if (skipped != i) {
      i = skipped;
      continue;
    }
    const size_t end = MarkupEnd(body, i);
    if (end == kNpos) return std::nullopt;
    const bool closing = i + 1 < body.size() && body[i + 1] == '/';
    if (NameAt(body, i + (closing ? 2 : 1), tag)) {
      const bool self_closing = !closing && body[end - 2] == '/';
      if (closing) {
        // A closing tag before any opening one is not ours: passed over.
        if (depth > 0 && --depth == 0) return body.substr(content, i - content);
      } else if (self_closing) {
        if (depth == 0) return std::string_view();
      } else if (depth++ == 0) {
        content = end;
      }
    }
    i = end;
  }
  return std::nullopt;
}

std::optional<std::string> XmlText(std::string_view body, std::string_view tag) {
  std::optional<std::string_view> element = XmlElement(body, tag);
  if (!element) return std::nullopt;
  return DecodeEntities(*element);
}

std::string XmlEscape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

}  // namespace rivet::net
