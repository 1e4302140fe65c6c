// Small pieces of URL handling shared by the config loader and the sources.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace rivet {

// Decodes %XX escapes into `out`; false on a truncated or non-hex escape (RFC 3986 §2.1).
bool PercentDecode(std::string_view in, std::string* out);

// The password of a "scheme://user:password@host..." URL, raw and percent-decoded (one entry
// when both are the same, or when the escapes are malformed); empty when the URL carries none.
std::vector<std::string> UrlPasswords(std::string_view url);

}  // namespace rivet
