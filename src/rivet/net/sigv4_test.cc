#include "rivet/net/sigv4.h"

#include <gtest/gtest.h>

namespace rivet::net {
namespace {

// The S3 documentation's examples ("Signature Calculations for the Authorization Header:
// Transferring Payload in a Single Chunk"): bucket examplebucket, us-east-1, 2013-05-24.
const SigV4Credentials kS3Example{"AKIAIOSFODNN7EXAMPLE",
                                  "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", ""};
constexpr const char* kS3Date = "20130524T000000Z";
constexpr const char* kS3Host = "examplebucket.s3.amazonaws.com";

SigV4Request S3Get(std::string path) {
  SigV4Request r;
  r.method = "GET";
  r.host = kS3Host;
  r.path = std::move(path);
  r.payload_hash = Sha256Hex("");
  return r;
}

TEST(SigV4, S3GetObjectWithRange) {
  SigV4Request r = S3Get("/test.txt");
  r.headers = {{"Range", "bytes=0-9"}};
  SignedRequest s = SignV4(r, kS3Example, {"us-east-1", "s3"}, kS3Date);
  EXPECT_EQ(s.canonical_request,
            "GET\n/test.txt\n\nhost:examplebucket.s3.amazonaws.com\nrange:bytes=0-9\n"
            "x-amz-content-sha256:"
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n"
            "x-amz-date:20130524T000000Z\n\nhost;range;x-amz-content-sha256;x-amz-date\n"
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(s.string_to_sign,
            "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n"
            "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972");
  EXPECT_EQ(s.signature, "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
  EXPECT_EQ(s.headers.back().second,
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/"
            "aws4_request, SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
            "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

TEST(SigV4, S3PutObjectSignsItsPayloadAndExtraHeaders) {
  SigV4Request r;
  r.method = "PUT";
  r.host = kS3Host;
  r.path = "/" + UriEncode("test$file.text", false);
  r.headers = {{"Date", "Fri, 24 May 2013 00:00:00 GMT"},
               {"x-amz-storage-class", "REDUCED_REDUNDANCY"}};
  r.payload_hash = Sha256Hex("Welcome to Amazon S3.");
  EXPECT_EQ(r.path, "/test%24file.text");
  EXPECT_EQ(r.payload_hash, "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
  SignedRequest s = SignV4(r, kS3Example, {"us-east-1", "s3"}, kS3Date);
  EXPECT_EQ(s.signature, "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd");
}

TEST(SigV4, S3BucketQueries) {
  SigV4Request lifecycle = S3Get("/");
  lifecycle.query = {{"lifecycle", ""}};
  SignedRequest s = SignV4(lifecycle, kS3Example, {"us-east-1", "s3"}, kS3Date);
  EXPECT_EQ(s.canonical_query, "lifecycle=");
  EXPECT_EQ(s.signature, "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543");

  SigV4Request list = S3Get("/");
  list.query = {{"prefix", "J"}, {"max-keys", "2"}};  // sorted by the signer
  s = SignV4(list, kS3Example, {"us-east-1", "s3"}, kS3Date);
  EXPECT_EQ(s.canonical_query, "max-keys=2&prefix=J");
  EXPECT_EQ(s.signature, "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
}

// The generic SigV4 test suite (service "service", 2015-08-30): no x-amz-content-sha256, and
// only cases whose path needs no normalisation (S3 never normalises paths).
struct SuiteCase {
  const char* name;
  const char* method;
  const char* path;
  std::vector<std::pair<std::string, std::string>> query;
  std::vector<std::pair<std::string, std::string>> headers;
  const char* signature;
};

TEST(SigV4, GenericTestSuite) {
  const SigV4Credentials creds{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""};
  const std::vector<SuiteCase> cases = {
      {"get-vanilla",
       "GET",
       "/",
       {},
       {},
       "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"},
      {"get-vanilla-query-order-key-case",
       "GET",
       "/",
       {{"Param2", "value2"}, {"Param1", "value1"}},
       {},
       "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"},
      {"post-vanilla",
       "POST",
       "/",
       {},
       {},
       "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"},
  };
  for (const SuiteCase& c : cases) {
    SigV4Request r;
    r.method = c.method;
    r.host = "example.amazonaws.com";
    r.path = c.path;
    r.query = c.query;
    r.headers = c.headers;
    r.payload_hash = Sha256Hex("");
    r.sign_content_sha256 = false;
    SignedRequest s = SignV4(r, creds, {"us-east-1", "service"}, "20150830T123600Z");
    EXPECT_EQ(s.signature, c.signature) << c.name << "\n" << s.canonical_request;
  }
}

TEST(SigV4, SessionTokenIsSentAndSigned) {
  SigV4Request r = S3Get("/a");
  SignedRequest s = SignV4(r, {"AKID", "secret", "the-token"}, {"eu-west-1", "s3"}, kS3Date);
  bool sent = false;
  for (const auto& [name, value] : s.headers) sent |= name == "x-amz-security-token";
  EXPECT_TRUE(sent);
  EXPECT_NE(s.canonical_request.find("x-amz-security-token:the-token\n"), std::string::npos);
  EXPECT_NE(s.headers.back().second.find(
                "SignedHeaders=host;x-amz-content-sha256;x-amz-date;x-amz-security-token"),
            std::string::npos);
}

TEST(SigV4, HeaderValuesTrimmedAndDuplicatesJoined) {
  SigV4Request r = S3Get("");
  r.headers = {{"X-Amz-Meta-A", "  two   words "}, {"x-amz-meta-b", "1"}, {"X-AMZ-META-B", "2"}};
  SignedRequest s = SignV4(r, kS3Example, {"us-east-1", "s3"}, kS3Date);
  EXPECT_EQ(s.canonical_request.substr(0, 6), "GET\n/\n");  // empty path signs as "/"
  EXPECT_NE(s.canonical_request.find("x-amz-meta-a:two words\nx-amz-meta-b:1,2\n"),
            std::string::npos);
}

TEST(SigV4, UriEncode) {
  EXPECT_EQ(UriEncode("a b/c=d~e_f.g-h", false), "a%20b/c%3Dd~e_f.g-h");
  EXPECT_EQ(UriEncode("a/b+c", true), "a%2Fb%2Bc");
  EXPECT_EQ(UriEncode("\xE1\x88\xB4", true), "%E1%88%B4");
  EXPECT_EQ(UriEncode("", true), "");
}

TEST(SigV4, AmzDate) {
  EXPECT_EQ(AmzDate(std::chrono::system_clock::from_time_t(1369353600)), "20130524T000000Z");
}

}  // namespace
}  // namespace rivet::net
