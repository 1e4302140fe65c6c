#include "rivet/net/xml.h"

#include <gtest/gtest.h>

#include <string>

namespace rivet::net {
namespace {

TEST(Xml, TheFirstElementOfANameWithOrWithoutAttributes) {
  constexpr std::string_view kBody =
      R"(<?xml version="1.0" encoding="UTF-8"?>
<InitiateMultipartUploadResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Bucket>exports</Bucket><Key>a/b.csv</Key>
  <UploadId>VXBsb2FkIElE</UploadId><UploadId>second</UploadId>
</InitiateMultipartUploadResult>)";
  EXPECT_EQ(XmlText(kBody, "UploadId"), "VXBsb2FkIElE");
  EXPECT_EQ(XmlText(kBody, "Bucket"), "exports");
  EXPECT_EQ(XmlText(R"(<Code lang="en" other='x>y'>NoSuchKey</Code>)", "Code"), "NoSuchKey");
  EXPECT_EQ(XmlText("<Code\n>SlowDown</Code >", "Code"), "SlowDown");
  EXPECT_EQ(XmlText("<Empty></Empty>", "Empty"), "");
  EXPECT_EQ(XmlText("<Empty/>", "Empty"), "");
  EXPECT_EQ(XmlText("<Empty attr=\"1\" />", "Empty"), "");
  EXPECT_EQ(XmlText(kBody, "Missing"), std::nullopt);
  EXPECT_EQ(XmlText(kBody, ""), std::nullopt);
  EXPECT_EQ(XmlText("", "Code"), std::nullopt);
}

TEST(Xml, NamesMatchWholeAndExactly) {
  EXPECT_EQ(XmlText("<CodeName>x</CodeName><Code>y</Code>", "Code"), "y");
  EXPECT_EQ(XmlText("<s3:Code>x</s3:Code>", "Code"), std::nullopt);
  EXPECT_EQ(XmlText("<code>x</code>", "Code"), std::nullopt);
  EXPECT_EQ(XmlText("<Cod>x</Cod>", "Code"), std::nullopt);
}

TEST(Xml, NestedElementsAndScoping) {
  constexpr std::string_view kSts =
      "<ErrorResponse><Error><Type>Sender</Type><Code>InvalidIdentityToken</Code>"
      "<Message>Bad &amp; expired</Message></Error><RequestId>r-1</RequestId></ErrorResponse>";
  std::optional<std::string_view> error = XmlElement(kSts, "Error");
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(*error,
            "<Type>Sender</Type><Code>InvalidIdentityToken</Code>"
            "<Message>Bad &amp; expired</Message>");
  EXPECT_EQ(XmlText(*error, "Code"), "InvalidIdentityToken");
  EXPECT_EQ(XmlText(*error, "Message"), "Bad & expired");
  EXPECT_EQ(XmlText(*error, "RequestId"), std::nullopt);  // outside the scope
  // Same-name elements nest: the outer one closes at its own end tag.
  EXPECT_EQ(XmlElement("<a>1<a>2</a>3</a><a>4</a>", "a"), "1<a>2</a>3");
  EXPECT_EQ(XmlElement("<a>1<a/>2</a>", "a"), "1<a/>2");
  // A stray closing tag before the element is passed over.
  EXPECT_EQ(XmlText("</Code><Code>x</Code>", "Code"), "x");
}

TEST(Xml, CommentsAndDeclarationsAreSkipped) {
  EXPECT_EQ(XmlText("<!-- <Code>fake</Code> --><Code>real</Code>", "Code"), "real");
  EXPECT_EQ(XmlText("<!DOCTYPE x><?pi <Code>no</Code> ?><Code>yes</Code>", "Code"), "yes");
  EXPECT_EQ(XmlElement("<Code>a<!-- </Code> -->b</Code>", "Code"), "a<!-- </Code> -->b");
}

TEST(Xml, TruncatedDocumentsGiveNothing) {
  const std::string whole = R"(<Result><Code attr="v">value</Code></Result>)";
  for (size_t n = 0; n <= whole.find("</Code>") + 6; ++n) {
    EXPECT_EQ(XmlText(whole.substr(0, n), "Code"), std::nullopt) << whole.substr(0, n);
  }
  EXPECT_EQ(XmlText(whole.substr(0, whole.find("</Code>") + 7), "Code"), "value");
  EXPECT_EQ(XmlText("<Code", "Code"), std::nullopt);
  EXPECT_EQ(XmlText("<Code attr=\"unterminated>x</Code>", "Code"), std::nullopt);
  EXPECT_EQ(XmlText("<!-- never closed <Code>x</Code>", "Code"), std::nullopt);
  EXPECT_EQ(XmlText("<Code>x<Code>y</Code>", "Code"), std::nullopt);  // the outer never closes
}

TEST(Xml, EntitiesAndCharacterReferences) {
  EXPECT_EQ(XmlText("<E>&amp;&lt;&gt;&quot;&apos;</E>", "E"), "&<>\"'");
  EXPECT_EQ(XmlText("<ETag>&quot;3858f62230ac3c915f300c664312c11f&quot;</ETag>", "ETag"),
            "\"3858f62230ac3c915f300c664312c11f\"");
  EXPECT_EQ(XmlText("<E>&#65;&#x42;&#X63;</E>", "E"), "ABc");
  EXPECT_EQ(XmlText("<E>&#233;&#x20AC;&#x1F600;</E>", "E"), "\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80");
  EXPECT_EQ(XmlText("<E>a&amp;amp;b</E>", "E"), "a&amp;b");  // decoded once
  for (const char* bad : {"<E>&</E>", "<E>&amp</E>", "<E>&nbsp;</E>", "<E>&#;</E>", "<E>&#x;</E>",
                          "<E>&#xZZ;</E>", "<E>&#-1;</E>", "<E>&#0;</E>", "<E>&#xD800;</E>",
                          "<E>&#x110000;</E>", "<E>&#99999999999999999999;</E>", "<E>&#12a;</E>"}) {
    EXPECT_EQ(XmlText(bad, "E"), std::nullopt) << bad;
  }
}

TEST(Xml, EscapeIsTheInverseOfDecoding) {
  const std::string text = "a&b<c>\"d\" 'e' \xC3\xA9";
  EXPECT_EQ(XmlEscape(text), "a&amp;b&lt;c&gt;&quot;d&quot; &apos;e&apos; \xC3\xA9");
  EXPECT_EQ(XmlText("<V>" + XmlEscape(text) + "</V>", "V"), text);
}

}  // namespace
}  // namespace rivet::net
