// Tests for the mongo-orm program: doctor against the server, exit codes, failing fast,
// credentials never printed.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <sstream>

#include "support/private_server.hpp"
#include "support/server.hpp"

namespace mongo_orm {
namespace {

using CliRun = testing::ProcessRun;

CliRun run_cli(const std::string& arguments, const std::string& environment = "") {
  return testing::run_process(environment + " " MONGO_ORM_CLI_PATH " " + arguments);
}

TEST(Doctor, ReportsServerKindVersionTopologyAndCapabilities) {
  CliRun run = run_cli("doctor --uri '" + testing::server_uri() + "'");
  ASSERT_EQ(run.exit_code, 0) << run.both();
  const Capabilities& caps = testing::shared_client().capabilities();
  EXPECT_NE(run.output.find(std::string(to_string(caps.kind))), std::string::npos) << run.both();
  EXPECT_NE(run.output.find(caps.version), std::string::npos) << run.both();
  EXPECT_NE(run.output.find("topology        " + std::string(to_string(caps.topology))), std::string::npos);
  EXPECT_NE(run.output.find("transactions"), std::string::npos);
}

// Every capability line reads "label  yes|no": the longest label too ("updates by _id use its
// index" once ran into its value).
TEST(Doctor, EveryCapabilityLabelIsSeparatedFromItsValue) {
  CliRun run = run_cli("doctor --uri '" + testing::server_uri() + "'");
  ASSERT_EQ(run.exit_code, 0) << run.both();
  std::istringstream lines(run.output.substr(run.output.find("  capabilities\n") + 15));
  int flags = 0;
  for (std::string line; std::getline(lines, line);) {
    // "<label>  yes  (how it was learned)": the label, the value and how it was learned apart.
    bool yes = line.find("  yes  (") != std::string::npos, no = line.find("  no   (") != std::string::npos;
    EXPECT_TRUE(yes || no) << "'" << line << "'";
    EXPECT_TRUE(line.ends_with(")") && (line.find("(asked the server)") != std::string::npos ||
                                        line.find("(assumed from MongoDB") != std::string::npos ||
                                        line.find("(known for FerretDB") != std::string::npos))
        << "'" << line << "'";
    ++flags;
  }
  EXPECT_GE(flags, 10);
  EXPECT_NE(run.output.find("updates by _id use its index  "), std::string::npos) << run.both();
}

TEST(Doctor, JsonOutputParses) {
  CliRun run = run_cli("doctor --json --uri '" + testing::server_uri() + "'");
  ASSERT_EQ(run.exit_code, 0) << run.both();
  bson::Document report = bson::from_json(run.output);
  EXPECT_EQ(report["max_wire_version"].as_int32(), testing::shared_client().capabilities().max_wire_version);
  EXPECT_EQ(report["capabilities"].as_document()["transactions"].as_bool(),
            testing::shared_client().capabilities().transactions);
  EXPECT_FALSE(std::string(report["learned"].as_document()["transactions"].as_string()).empty());
}

TEST(Doctor, UsesMongodbUriFromTheEnvironment) {
  CliRun run = run_cli("doctor", "MONGODB_URI='" + testing::server_uri() + "'");
  EXPECT_EQ(run.exit_code, 0) << run.both();
}

TEST(Doctor, FailsFastWithAClearMessageWhenNothingAnswers) {
  auto start = std::chrono::steady_clock::now();
  CliRun run = run_cli("doctor", "MONGODB_URI='mongodb://admin:topsecret@127.0.0.1:1/'");
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_NE(run.errors.find("cannot connect"), std::string::npos) << run.both();
  EXPECT_NE(run.errors.find("127.0.0.1:1"), std::string::npos) << run.both();
  EXPECT_EQ(run.both().find("topsecret"), std::string::npos) << run.both();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
}

TEST(Doctor, InvalidUriExitsWithFailureAndNoPassword) {
  CliRun run = run_cli("doctor --uri 'mongodb://admin:topsecret@127.0.0.1:port/'");
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_NE(run.errors.find("invalid MongoDB URI"), std::string::npos) << run.both();
  EXPECT_EQ(run.both().find("topsecret"), std::string::npos) << run.both();
}

// Options that hold secrets are masked in doctor's text and JSON, as the password is.
TEST(Doctor, MasksSecretBearingUriOptionsInTextAndJson) {
  std::string uri = testing::server_uri();
  uri += (uri.find('?') == std::string::npos ? "?" : "&") +
         std::string("tlsCertificateKeyFilePassword=hunter2&tls=false&authMechanismProperties=SERVICE_NAME:hunter2");
  for (const char* json : {"", " --json"}) {
    CliRun run = run_cli(std::string("doctor") + json + " --uri '" + uri + "'");
    EXPECT_EQ(run.both().find("hunter2"), std::string::npos) << run.both();
    EXPECT_EQ(run.exit_code, 0) << run.both();
    EXPECT_NE(run.both().find("tlsCertificateKeyFilePassword=****"), std::string::npos) << run.both();
    EXPECT_NE(run.both().find("authMechanismProperties=****"), std::string::npos) << run.both();
  }
  CliRun run = run_cli("doctor --uri 'mongodb://admin:p@ssw0rdSecret@127.0.0.1:1/db?serverSelectionTimeoutMS=200'");
  std::string lower = run.both();
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  EXPECT_EQ(lower.find("ssw0rd"), std::string::npos) << run.both();
}

// A server that accepts connections and never answers: the URI's serverSelectionTimeoutMS bounds
// the wait (libmongoc alone would hold the handshake for its 10 s connect timeout).
TEST(Doctor, HonoursTheUrisSelectionTimeoutAgainstAServerThatNeverAnswers) {
  int listener = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(listener, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  ASSERT_EQ(listen(listener, 16), 0);  // the kernel accepts; nothing ever answers
  socklen_t length = sizeof address;
  ASSERT_EQ(getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length), 0);
  std::string uri = "mongodb://127.0.0.1:" + std::to_string(ntohs(address.sin_port)) + "/db?serverSelectionTimeoutMS=1500";
  for (const std::string& command : {"ping --uri '" + uri + "'", "migrate --uri '" + uri + "' status"}) {
    auto start = std::chrono::steady_clock::now();
    CliRun run = run_cli(command);
    auto took = std::chrono::steady_clock::now() - start;
    EXPECT_EQ(run.exit_code, 1) << command << ": " << run.both();
    EXPECT_LT(took, std::chrono::milliseconds(4000)) << command << " waited past the URI's 1500 ms: " << run.both();
  }
  close(listener);
}

// An empty --uri is a usage error, never the embedded server; only a URI left out falls back.
TEST(Cli, AnEmptyUriIsAUsageError) {
  for (const char* command : {"doctor --uri ''", "ping --uri ''", "migrate --uri '' status"}) {
    CliRun run = run_cli(command);
    EXPECT_EQ(run.exit_code, 2) << command << ": " << run.both();
    EXPECT_NE(run.errors.find("--uri"), std::string::npos) << command << ": " << run.both();
    EXPECT_NE(run.errors.find("is empty"), std::string::npos) << command << ": " << run.both();
  }
}

// With neither --uri nor $MONGODB_URI the embedded server is used, and stderr says which.
TEST(Cli, TheEmbeddedServerIsNamedOnStderrWhenNoUriIsGiven) {
  if (!testing::PrivateServer::available()) GTEST_SKIP() << "needs the embedded server program (not in this build)";
  testing::PrivateServer server;
  ASSERT_EQ(server.start().exit_code, 0);
  std::string uri = server.uri();
  std::string listen = uri.substr(uri.find("//") + 2, uri.find("/?") - uri.find("//") - 2);
  std::string environment = "env -u MONGODB_URI MONGO_ORM_HOME=" + server.home() + " MONGO_ORM_SERVER_LISTEN=" + listen;
  CliRun run = run_cli("migrate --database embedded_named status --json", environment);
  ASSERT_EQ(run.exit_code, 0) << run.both();
  EXPECT_NE(run.errors.find("mongo-orm: no --uri and no $MONGODB_URI: using the embedded server at mongodb://" + listen),
            std::string::npos)
      << run.errors;
  EXPECT_EQ(run.output.find("embedded server"), std::string::npos) << "stdout stays the result alone: " << run.output;
  CliRun given = run_cli("migrate --uri '" + uri + "' --database embedded_named status", environment);
  EXPECT_EQ(given.exit_code, 0) << given.both();
  EXPECT_EQ(given.errors.find("embedded server"), std::string::npos) << given.errors;
}

TEST(Cli, UsageErrorsExitWithTwo) {
  EXPECT_EQ(run_cli("").exit_code, 2);
  EXPECT_EQ(run_cli("no-such-command").exit_code, 2);
  EXPECT_EQ(run_cli("doctor --no-such-flag").exit_code, 2);
  EXPECT_EQ(run_cli("--help").exit_code, 0);
}

}  // namespace
}  // namespace mongo_orm
