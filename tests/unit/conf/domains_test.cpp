// Unit tests for `domains:`: names, recipients (list and file), downstream
// address, TLS level, pins and AUTH.
#include <catch2/catch.hpp>

#include "tests/unit/conf/helpers.hpp"

using namespace mxgate::conf;
using namespace mxgate::conf::test;

namespace {

const std::string kHead = "hostname: mx.example.org\ntls: {self_signed: true}\ndomains:\n";  // 3 lines
const std::string kPin = "sha256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=";

}  // namespace

TEST_CASE("domain names are checked, lower-cased and unique", "[conf][domains]") {
    CHECK(errors_of(kHead +
                    "  - {name: Example.ORG, recipients: ['@example.org'], downstream: {address: 'h.example.org:25'}}\n"
                    "  - {name: example.org, recipients: ['@example.org'], downstream: {address: 'h.example.org:25'}}\n"
                    "  - {name: 'exa mple.org', recipients: [], downstream: {address: 'h.example.org:25'}}\n"
                    "  - {name: bücher.example, recipients: [], downstream: {address: 'h.example.org:25'}}\n") ==
          std::vector<std::string>{
              "t.yaml:5:12: domains[1].name: duplicate domain example.org",
              "t.yaml:6:12: domains[2].name: invalid character in domain name (letters, digits, '-' and '.' "
              "only): 'exa mple.org'",
              "t.yaml:7:12: domains[3].name: non-ASCII domain name (write the A-label form, xn--...): "
              "'b\xc3\xbc" "cher.example'",
          });
    CHECK(errors_of(kHead + "  - {recipients: ['@example.org']}\n") ==
          std::vector<std::string>{"t.yaml:4:5: domains[0].name: required",
                                   "t.yaml:4:5: domains[0].downstream: required (where mail for this domain is "
                                   "relayed)"});
    CHECK(errors_of("hostname: mx.example.org\ntls: {self_signed: true}\ndomains: []\n") ==
          std::vector<std::string>{"t.yaml:3:10: domains: at least one domain is required (the domains the mx "
                                   "listener accepts mail for)"});
}

TEST_CASE("domains are optional without an mx listener (a lab-only configuration)", "[conf][domains]") {
    const auto cfg = load_ok("hostname: mx.example.org\ntls: {self_signed: true}\n"
                             "listeners: [{name: lab, role: lab, address: '127.0.0.1:2526', lab: {starttls: strip}}]\n");
    CHECK(cfg->domains.empty());
    // Listeners absent: the default mx listener needs domains.
    CHECK(errors_of("hostname: mx.example.org\ntls: {self_signed: true}\n").size() == 1);
}

TEST_CASE("recipients as a list", "[conf][domains]") {
    CHECK(errors_of(kHead +
                    "  - name: example.org\n"
                    "    downstream: {address: 'h.example.org:25'}\n"
                    "    recipients: ['alice@example.org', '@other.org', 'no-at-sign', 'a b@example.org', 7]\n") ==
          std::vector<std::string>{
              "t.yaml:6:39: domains[0].recipients[1]: recipient '@other.org' is not in domain example.org",
              "t.yaml:6:53: domains[0].recipients[2]: invalid recipient 'no-at-sign': not an address (expected "
              "local@domain or @domain)",
              "t.yaml:6:67: domains[0].recipients[3]: invalid recipient 'a b@example.org': invalid character in "
              "local part",
              "t.yaml:6:86: domains[0].recipients[4]: invalid recipient '7': not an address (expected "
              "local@domain or @domain)",
          });
    CHECK(errors_of(kHead + "  - {name: example.org, downstream: {address: 'h.example.org:25'}, recipients: 7}\n") ==
          std::vector<std::string>{"t.yaml:4:80: domains[0].recipients: expected a list, found a string"});
    CHECK(errors_of(kHead + "  - {name: example.org, downstream: {address: 'h.example.org:25'}}\n") ==
          std::vector<std::string>{"t.yaml:4:5: domains[0].recipients: required (a list, or file: PATH)"});
}

TEST_CASE("recipients from a file, with the file's own positions", "[conf][domains]") {
    TempDir dir;
    const std::string path = dir.write("rcpt", "# the table\n"
                                               "Alice@Example.org\n"
                                               "  @example.org   # everyone else\n"
                                               "\n"
                                               "bob@other.org\n"
                                               "carol@example.org trailing\n"
                                               "\tbad@@example.org\r\n"
                                               "dave#1@example.org\n");
    const std::string yaml = kHead + "  - {name: example.org, downstream: {address: 'h.example.org:25'}, recipients: "
                                     "{file: '" + path + "'}}\n";
    CHECK(errors_of(yaml) == std::vector<std::string>{
                                 path + ":5:1: recipient 'bob@other.org' is not in domain example.org",
                                 path + ":6:19: unexpected text after the address (one address or @domain per line)",
                                 path + ":7:2: invalid recipient 'bad@@example.org': invalid character in local part",
                             });
    const std::string good = dir.write("good", "alice@example.org\n@EXAMPLE.org\ndave#1@example.org\n");
    const auto cfg = load_ok(kHead + "  - {name: example.org, downstream: {address: 'h.example.org:25'}, "
                                     "recipients: {file: '" + good + "'}}\n");
    CHECK(cfg->domains[0].recipients ==
          std::vector<std::string>{"alice@example.org", "@example.org", "dave#1@example.org"});
    CHECK(cfg->domains[0].recipients_file == good);
}

TEST_CASE("recipients file that cannot be read", "[conf][domains]") {
    TempDir dir;
    CHECK(errors_of(kHead + "  - {name: example.org, downstream: {address: 'h.example.org:25'}, "
                            "recipients: {file: /nonexistent/rcpt}}\n") ==
          std::vector<std::string>{"t.yaml:4:87: domains[0].recipients.file: cannot read recipients file "
                                   "'/nonexistent/rcpt': no such file"});
    CHECK(errors_of(kHead + "  - {name: example.org, downstream: {address: 'h.example.org:25'}, "
                            "recipients: {file: '" + dir.path.string() + "'}}\n") ==
          std::vector<std::string>{"t.yaml:4:87: domains[0].recipients.file: recipients file '" +
                                   dir.path.string() + "' is not a regular file"});
    CHECK(errors_of(kHead + "  - {name: example.org, downstream: {address: 'h.example.org:25'}, "
                            "recipients: {path: x}}\n") ==
          std::vector<std::string>{
              "t.yaml:4:80: domains[0].recipients.file: required (or write the recipients as a list)",
              "t.yaml:4:81: domains[0].recipients.path: unknown key"});
}

TEST_CASE("downstream address, TLS level and pins", "[conf][domains]") {
    const auto line = [](const std::string& downstream) {
        return kHead + "  - {name: example.org, recipients: ['@example.org'], downstream: " + downstream + "}\n";
    };
    const auto cfg = load_ok(line("{address: 'LMTP://home.example.org:24', tls: encrypt}"));
    CHECK(cfg->domains[0].downstream.lmtp);
    CHECK(cfg->domains[0].downstream.tls == DownstreamTls::encrypt);
    CHECK(cfg->domains[0].downstream.address.text() == "home.example.org:24");
    CHECK(load_ok(line("{address: 'h.example.org:25', tls: none}"))->domains[0].downstream.tls ==
          DownstreamTls::none);
    CHECK(load_ok(line("{address: 'h.example.org:25', tls: pin, pin: ['" + kPin + "']}"))
              ->domains[0]
              .downstream.pin == std::vector<std::string>{kPin});

    CHECK(errors_of(line("{address: 'smtp://h.example.org:25'}")) ==
          std::vector<std::string>{"t.yaml:4:77: domains[0].downstream.address: invalid address "
                                   "'smtp://h.example.org:25' (expected host:port or lmtp://host:port, e.g. "
                                   "home.example.org:25)"});
    CHECK(errors_of(line("{address: 'h.example.org:25', tls: pin}")) ==
          std::vector<std::string>{"t.yaml:4:102: domains[0].downstream.tls: pin needs at least one entry in "
                                   "domains[0].downstream.pin"});
    CHECK(errors_of(line("{address: 'h.example.org:25', tls: pin, pin: []}")) ==
          std::vector<std::string>{"t.yaml:4:102: domains[0].downstream.tls: pin needs at least one entry in "
                                   "domains[0].downstream.pin"});
    CHECK(errors_of(line("{address: 'h.example.org:25', pin: ['" + kPin + "']}")) ==
          std::vector<std::string>{"t.yaml:4:102: domains[0].downstream.pin: pins are only used with tls: pin"});
    CHECK(errors_of(line("{address: 'h.example.org:25', tls: trust}")) ==
          std::vector<std::string>{"t.yaml:4:102: domains[0].downstream.tls: invalid value 'trust' (expected "
                                   "verify, pin, encrypt, opportunistic or none)"});
    CHECK(errors_of(line("{tls: verify}")) ==
          std::vector<std::string>{"t.yaml:4:67: domains[0].downstream.address: required"});
}

TEST_CASE("pins must be sha256: and 44 characters of canonical base64", "[conf][domains]") {
    const char* bad[] = {
        "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=",          // no prefix
        "sha1:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=",     // wrong hash
        "sha256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU",    // 43 characters
        "sha256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU==",  // 45 characters
        "sha256:47DEQpj8HBSa-_TImW+5JCeuQeRkm5NMpJWZG3hSuFU=",   // base64url
        "sha256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFV=",   // non-zero pad bits
        "SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=",
    };
    for (const char* pin : bad) {
        INFO(pin);
        const std::vector<std::string> e = errors_of(
            kHead + "  - {name: example.org, recipients: ['@example.org'], downstream: {address: 'h.example.org:25', "
                    "tls: pin, pin: ['" + std::string(pin) + "']}}\n");
        REQUIRE(e.size() == 1);
        CHECK_THAT(e[0], Catch::StartsWith("t.yaml:4:113: domains[0].downstream.pin[0]: invalid pin '"));
    }
}

TEST_CASE("downstream auth needs an existing password file and TLS", "[conf][domains]") {
    TempDir dir;
    const std::string pass = dir.write("home.pass", "secret\n");
    const auto line = [](const std::string& downstream) {
        return kHead + "  - {name: example.org, recipients: ['@example.org'], downstream: " + downstream + "}\n";
    };
    const auto cfg = load_ok(line("{address: 'h.example.org:25', auth: {username: relay, password_file: '" + pass + "'}}"));
    REQUIRE(cfg->domains[0].downstream.auth.has_value());
    CHECK(cfg->domains[0].downstream.auth->username == "relay");
    CHECK(cfg->domains[0].downstream.auth->password_file == pass);

    CHECK(errors_of(line("{address: 'h.example.org:25', auth: {username: relay}}")) ==
          std::vector<std::string>{"t.yaml:4:103: domains[0].downstream.auth.password_file: required"});
    CHECK(errors_of(line("{address: 'h.example.org:25', auth: {username: relay, password_file: /nonexistent/p}}")) ==
          std::vector<std::string>{
              "t.yaml:4:136: domains[0].downstream.auth.password_file: no such file '/nonexistent/p'"});
    CHECK(errors_of(line("{address: 'h.example.org:25', tls: none, auth: {username: relay, password_file: '" + pass +
                         "'}}")) ==
          std::vector<std::string>{"t.yaml:4:108: domains[0].downstream.auth: needs TLS to the downstream (tls: "
                                   "none would never send it)"});
}
