// Reading one value out of the small XML documents that AWS services answer (STS credentials,
// S3's UploadId, ETag and Error/Code). Not a parser: it finds the first element of a name and
// returns what it holds. Pure and bounds-checked; a truncated or malformed document gives
// nullopt, never a read past its end.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace rivet::net {

// What the first <tag>...</tag> element of `body` holds, as written (entities not decoded):
// the element may carry attributes (<Tag xmlns="...">), nested elements of the same name are
// balanced, comments and processing instructions are skipped, and <tag/> holds "". nullopt when
// there is no such element or it is not closed. Names match exactly (case-sensitive, no
// namespace prefix): looking for "Code" does not find <CodeName> or <s3:Code>.
std::optional<std::string_view> XmlElement(std::string_view body, std::string_view tag);

// The decoded text of the first <tag>...</tag> element: XmlElement with &amp; &lt; &gt; &quot;
// &apos; &#NN; and &#xNN; decoded (character references as UTF-8). nullopt when the element is
// absent or holds a malformed reference. Meant for elements that hold text only.
std::optional<std::string> XmlText(std::string_view body, std::string_view tag);

// `text` with & < > " ' written as entities: for values put into an XML request body.
std::string XmlEscape(std::string_view text);

}  // namespace rivet::net
