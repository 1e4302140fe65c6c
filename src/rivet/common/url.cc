#include "rivet/common/url.h"

namespace rivet {

namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

bool PercentDecode(std::string_view in, std::string* out) {
  out->clear();
  out->reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out->push_back(in[i]);
      continue;
    }
    if (i + 2 >= in.size()) return false;  // needs two hex digits after the %
    int hi = HexValue(in[i + 1]);
    int lo = HexValue(in[i + 2]);
    if (hi < 0 || lo < 0) return false;
    out->push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return true;
}

std::vector<std::string> UrlPasswords(std::string_view url) {
  std::vector<std::string> out;
  size_t scheme = url.find("://");
  if (scheme == std::string_view::npos) return out;
  std::string_view rest = url.substr(scheme + 3);
  std::string_view authority = rest.substr(0, rest.find_first_of("/?#"));
  size_t at = authority.rfind('@');
  if (at == std::string_view::npos) return out;
  size_t colon = authority.substr(0, at).find(':');
  if (colon == std::string_view::npos || colon + 1 == at) return out;
  std::string raw(authority.substr(colon + 1, at - colon - 1));
  std::string decoded;
  bool decodes = PercentDecode(raw, &decoded);
  out.push_back(raw);
  if (decodes && decoded != raw) out.push_back(std::move(decoded));
  return out;
}

}  // namespace rivet
