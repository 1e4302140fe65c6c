// Keeping credentials out of messages that quote user input or a server's words.
//
// Two complementary tools: HideSecrets removes values known to be secret (a resolved password,
// a URL); HideCredentialShapes removes what looks like a credential whatever it is, for text
// quoted before its secrets are known (a config value that swallowed the lines after it).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace rivet {

// The mask that stands where a secret was.
inline constexpr std::string_view kSecretMask = "***";

// Replaces every occurrence of each non-empty secret with kSecretMask, longest first, so that
// a URL is hidden whole rather than around the password inside it.
std::string HideSecrets(std::string text, std::vector<std::string> secrets);

// Masks the password of every "scheme://user:password@" (-> "scheme://user:***@") and the value
// of every "password=...", "password: ..." and the like (keys ending in password, passwd, pwd,
// secret, token or url, any case). Errs on the side of hiding too much.
std::string HideCredentialShapes(std::string_view text);

}  // namespace rivet
