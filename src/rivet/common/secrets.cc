#include "rivet/common/secrets.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstddef>

namespace rivet {

namespace {

bool IsSpace(char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; }

bool IsWordChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_'; }

bool EndsWithIgnoringCase(std::string_view word, std::string_view suffix) {
  if (word.size() < suffix.size()) return false;
  return std::equal(suffix.begin(), suffix.end(),
                    word.end() - static_cast<std::ptrdiff_t>(suffix.size()), [](char a, char b) {
                      return std::tolower(static_cast<unsigned char>(a)) ==
                             std::tolower(static_cast<unsigned char>(b));
                    });
}

// Key names whose value is a credential, matched as the end of a word so that db_password,
// PGPASSWORD and secret_token count too. A URL may carry its password, and a webhook URL is a
// secret through and through, so "url" values are hidden whole.
constexpr std::array<std::string_view, 6> kCredentialKeys = {"password", "passwd", "pwd",
                                                             "secret",   "token",  "url"};

bool IsCredentialKey(std::string_view word) {
  return std::any_of(kCredentialKeys.begin(), kCredentialKeys.end(),
                     [&](std::string_view key) { return EndsWithIgnoringCase(word, key); });
}

// "scheme://user:password@host": the password becomes the mask. The userinfo is taken up to the
// last '@' before a blank, not before the first '/', so that a password with an unescaped '/'
// is hidden too (a query string with an '@' is masked needlessly, which is harmless).
std::string HideUrlPasswords(std::string_view text) {
  std::string out;
  size_t i = 0;
  while (i < text.size()) {
    size_t scheme = text.find("://", i);
    if (scheme == std::string_view::npos) break;
    const size_t start = scheme + 3;
    size_t end = start;
    while (end < text.size() && !IsSpace(text[end]) && text[end] != '\'' && text[end] != '"') {
      ++end;
    }
    const std::string_view authority = text.substr(start, end - start);
    const size_t at = authority.rfind('@');
    const size_t colon = at == std::string_view::npos ? at : authority.substr(0, at).find(':');
    if (colon == std::string_view::npos) {
      out.append(text.substr(i, end - i));
    } else {
      out.append(text.substr(i, start + colon + 1 - i));
      out.append(kSecretMask);
      out.append(authority.substr(at));
    }
    i = end;
  }
  if (i < text.size()) out.append(text.substr(i));
  return out;
}

// "<key>=<value>" and "<key>: <value>" for credential keys: the value becomes the mask. A quoted
// value is hidden up to its closing quote, an unquoted one up to a blank or a separator.
std::string HideKeyValues(std::string_view text) {
  std::string out;
  size_t i = 0;
  while (i < text.size()) {
    if (!IsWordChar(text[i])) {
      out.push_back(text[i++]);
      continue;
    }
    size_t word_end = i;
    while (word_end < text.size() && IsWordChar(text[word_end])) ++word_end;
    out.append(text.substr(i, word_end - i));
    const std::string_view word = text.substr(i, word_end - i);
    i = word_end;
    if (!IsCredentialKey(word)) continue;
    size_t p = i;
    while (p < text.size() && text[p] == ' ') ++p;
    if (p >= text.size() || (text[p] != '=' && text[p] != ':')) continue;
    ++p;
    while (p < text.size() && text[p] == ' ') ++p;
    size_t value_end = p;
    if (p < text.size() && (text[p] == '\'' || text[p] == '"')) {
      value_end = text.find(text[p], p + 1);
      value_end = value_end == std::string_view::npos ? text.size() : value_end + 1;
    } else {
      while (value_end < text.size() && !IsSpace(text[value_end]) &&
             std::string_view("&;,)").find(text[value_end]) == std::string_view::npos) {
        ++value_end;
      }
    }
    if (value_end == p) continue;  // nothing after the separator: nothing to hide
    out.append(text.substr(i, p - i));
    out.append(kSecretMask);
    i = value_end;
  }
  return out;
}

}  // namespace

std::string HideSecrets(std::string text, std::vector<std::string> secrets) {
  std::sort(secrets.begin(), secrets.end(),
            [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  for (const std::string& secret : secrets) {
    if (secret.empty()) continue;
    for (size_t pos = text.find(secret); pos != std::string::npos;
         pos = text.find(secret, pos + kSecretMask.size())) {
      text.replace(pos, secret.size(), kSecretMask);
    }
  }
  return text;
}

std::string HideCredentialShapes(std::string_view text) {
  return HideKeyValues(HideUrlPasswords(text));
}

}  // namespace rivet
