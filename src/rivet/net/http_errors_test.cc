#include "rivet/net/http_errors.h"

#include <gtest/gtest.h>

namespace rivet::net {
namespace {

struct Case {
  CURLcode curl;
  long status;
  const char* store_code;
  ErrorCode expected;
};

TEST(ClassifyHttp, TransportStatusAndStoreCodes) {
  const Case cases[] = {
      {CURLE_OK, 200, "", ErrorCode::kOk},
      {CURLE_OK, 204, "", ErrorCode::kOk},
      // A 200 whose body is an error (CompleteMultipartUpload) is not a success.
      {CURLE_OK, 200, "InternalError", ErrorCode::kNetwork},
      {CURLE_OK, 500, "", ErrorCode::kNetwork},
      {CURLE_OK, 502, "", ErrorCode::kNetwork},
      {CURLE_OK, 503, "SlowDown", ErrorCode::kCapacity},
      {CURLE_OK, 503, "", ErrorCode::kCapacity},
      {CURLE_OK, 429, "", ErrorCode::kCapacity},
      {CURLE_OK, 400, "RequestTimeout", ErrorCode::kTimeout},
      {CURLE_OK, 403, "SignatureDoesNotMatch", ErrorCode::kAuth},
      {CURLE_OK, 403, "InvalidAccessKeyId", ErrorCode::kAuth},
      {CURLE_OK, 403, "AccessDenied", ErrorCode::kAuth},
      {CURLE_OK, 400, "ExpiredToken", ErrorCode::kAuth},
      {CURLE_OK, 403, "", ErrorCode::kAuth},
      {CURLE_OK, 404, "NoSuchBucket", ErrorCode::kConfig},
      {CURLE_OK, 400, "AuthorizationHeaderMalformed", ErrorCode::kConfig},
      {CURLE_OK, 301, "PermanentRedirect", ErrorCode::kConfig},
      {CURLE_OK, 412, "PreconditionFailed", ErrorCode::kIo},
      {CURLE_OK, 409, "", ErrorCode::kIo},
      {CURLE_RECV_ERROR, 0, "", ErrorCode::kNetwork},
      {CURLE_SEND_ERROR, 0, "", ErrorCode::kNetwork},
      {CURLE_COULDNT_CONNECT, 0, "", ErrorCode::kNetwork},
      {CURLE_GOT_NOTHING, 0, "", ErrorCode::kNetwork},
      {CURLE_OPERATION_TIMEDOUT, 0, "", ErrorCode::kTimeout},
      {CURLE_PEER_FAILED_VERIFICATION, 0, "", ErrorCode::kConfig},
      {CURLE_URL_MALFORMAT, 0, "", ErrorCode::kConfig},
      {CURLE_ABORTED_BY_CALLBACK, 0, "", ErrorCode::kInterrupted},
      {CURLE_WRITE_ERROR, 0, "", ErrorCode::kIo},
      // The transport wins over whatever status a broken exchange left behind.
      {CURLE_RECV_ERROR, 200, "", ErrorCode::kNetwork},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(ClassifyHttp(c.curl, c.status, c.store_code), c.expected)
        << curl_easy_strerror(c.curl) << " " << c.status << " " << c.store_code;
  }
  // Retryable exactly where the reference says so.
  EXPECT_TRUE(IsRetryable(ClassifyHttp(CURLE_OK, 503, "SlowDown")));
  EXPECT_TRUE(IsRetryable(ClassifyHttp(CURLE_RECV_ERROR, 0, "")));
  EXPECT_FALSE(IsRetryable(ClassifyHttp(CURLE_OK, 403, "SignatureDoesNotMatch")));
  EXPECT_FALSE(IsRetryable(ClassifyHttp(CURLE_OK, 404, "NoSuchBucket")));
}

TEST(S3ErrorCode, ReadsTheCodeAndNothingElse) {
  EXPECT_EQ(S3ErrorCode("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>NoSuchBucket"
                        "</Code><Message>The specified bucket does not exist</Message></Error>"),
            "NoSuchBucket");
  EXPECT_EQ(S3ErrorCode(""), "");
  EXPECT_EQ(S3ErrorCode("<Error><Code>SlowDown"), "");  // cut off
  EXPECT_EQ(S3ErrorCode("<Code>Not a code</Code>"), "");
  EXPECT_EQ(S3ErrorCode("<Code>" + std::string(100, 'A') + "</Code>"), "");
  EXPECT_EQ(S3ErrorCode(std::string(70 * 1024, ' ') + "<Code>SlowDown</Code>"), "");
}

}  // namespace
}  // namespace rivet::net
