// Unit tests for the loader: values read from YAML, the strict defaults,
// and the exact text and position (FILE:LINE:COL) of every diagnostic.
#include <catch2/catch.hpp>

#include "tests/unit/conf/helpers.hpp"

using namespace mxgate::conf;
using namespace mxgate::conf::test;
using namespace std::chrono;
using Catch::Matchers::Contains;

TEST_CASE("a minimal config gets the strict defaults", "[conf][loader]") {
    const auto cfg = load_ok(kBase);
    CHECK(cfg->hostname == "mx.example.org");
    CHECK(cfg->source_file == "t.yaml");
    CHECK(cfg->spool == "/var/spool/mxgate");
    CHECK(cfg->log.format == LogFormat::json);
    CHECK(cfg->log.level == LogLevel::info);
    CHECK(cfg->log.file == "stderr");
    REQUIRE(cfg->listeners.size() == 1);
    CHECK(cfg->listeners[0].name == "mx");
    CHECK(cfg->listeners[0].role == ListenerRole::mx);
    CHECK(cfg->listeners[0].address.text() == "[::]:25");
    CHECK(cfg->listeners[0].tls == ListenerTls::starttls);
    CHECK(cfg->tls.generate_self_signed);
    CHECK(cfg->tls.ca_file == "system");
    CHECK(cfg->tls.inbound.profile.name == TlsProfileName::modern);
    CHECK(cfg->tls.outbound.default_level == OutboundLevel::opportunistic);
    CHECK(cfg->tls.outbound.profile.name == TlsProfileName::intermediate);
    CHECK(cfg->tls.outbound.fallback == Fallback::plaintext_logged);
    CHECK_FALSE(cfg->dns.resolver.has_value());
    CHECK(cfg->dns.dnssec == DnssecMode::trust_ad);
    REQUIRE(cfg->domains.size() == 1);
    CHECK(cfg->domains[0].downstream.tls == DownstreamTls::verify);
    CHECK_FALSE(cfg->domains[0].downstream.lmtp);
    CHECK(cfg->limits.message_size == 50ull << 20);
    CHECK(cfg->limits.recipients == 100);
    CHECK(cfg->limits.timeouts.command == minutes(5));
    CHECK(cfg->queue.retry.size() == 6);
    CHECK(cfg->queue.max_lifetime == hours(120));
    CHECK_FALSE(cfg->metrics.address.has_value());
}

TEST_CASE("hostname defaults to the system's name, lower-cased", "[conf][loader]") {
    const auto cfg = load_ok(
        "tls: {self_signed: true}\n"
        "domains: [{name: example.org, recipients: ['@example.org'], downstream: {address: 'h.example.org:25'}}]\n");
    CHECK_FALSE(cfg->hostname.empty());
    for (char c : cfg->hostname) CHECK_FALSE((c >= 'A' && c <= 'Z'));
}

TEST_CASE("unbuilt features read as off in the snapshot", "[conf][loader][features]") {
    const auto cfg = load_ok(kBase);
    CHECK(cfg->tls.outbound.use_mta_sts);  // built (issue 3): the contract default, on
    CHECK(cfg->tls.outbound.use_dane);  // built (DANE): the contract default, on
    CHECK(cfg->tls.outbound.tlsrpt.enabled);  // contract default (TLS-RPT is built)
    CHECK(cfg->policy.spf);  // built: the contract defaults (on)
    CHECK(cfg->policy.dkim_verify);
    CHECK(cfg->policy.dmarc_enforce);
    CHECK_FALSE(cfg->policy.greylisting);
}

TEST_CASE("every supported key is read", "[conf][loader]") {
    const auto cfg = load_ok(R"(
hostname: MX.Example.ORG
spool: ./spool
log: {format: text, level: debug, file: /var/log/mxgate.log}
listeners:
  - {name: mx, role: mx, address: "[::]:25", tls: starttls}
  - {name: mx-implicit, address: "127.0.0.1:465", tls: implicit}
  - {name: plain, role: mx, address: "mx.example.org:2525", tls: none}
tls:
  certificate: ./cert.pem
  key: ./key.pem
  self_signed: true
  ca_file: system
  inbound: {profile: strict, min_version: TLSv1.3, ciphers: "ECDHE+AESGCM", ciphersuites: "TLS_AES_256_GCM_SHA384", groups: "X25519"}
  outbound: {default: none, use_mta_sts: false, use_dane: false, profile: compat, min_version: TLSv1, fallback: defer,
             policies: {}, tlsrpt: {enabled: false, organization: Example, contact: tlsrpt@example.org}}
dns: {resolver: "127.0.0.1:53", dnssec: "off"}
domains:
  - name: Example.ORG
    recipients: ["Alice@Example.org", "@example.org"]
    downstream:
      address: "lmtp://[2001:db8::25]:24"
      tls: pin
      pin: ["sha256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="]
  - name: example.net
    recipients: ["bob@example.net"]
    downstream: {address: "10.0.0.2:2526", tls: opportunistic}
limits:
  message_size: 10M
  recipients: 50
  connections: 100
  connections_per_ip: 5
  line_length: 2000
  timeouts: {command: 10m, data_block: 1h, tls_handshake: 5s}
queue: {retry: [1m, 2h], max_lifetime: 2d, delay_warning: 30m}
metrics: {address: "127.0.0.1:9325"}
)");
    CHECK(cfg->hostname == "mx.example.org");
    CHECK(cfg->spool == "./spool");
    CHECK(cfg->log.format == LogFormat::text);
    CHECK(cfg->log.level == LogLevel::debug);
    CHECK(cfg->log.file == "/var/log/mxgate.log");
    REQUIRE(cfg->listeners.size() == 3);
    CHECK(cfg->listeners[1].role == ListenerRole::mx);
    CHECK(cfg->listeners[1].tls == ListenerTls::implicit);
    CHECK(cfg->listeners[1].mark.line == 7);  // the raw string starts with a newline
    CHECK(cfg->listeners[1].mark.col == 5);
    CHECK(cfg->listeners[2].tls == ListenerTls::none);
    CHECK(cfg->listeners[2].address.text() == "mx.example.org:2525");
    CHECK(cfg->tls.certificate == "./cert.pem");
    CHECK(cfg->tls.key == "./key.pem");
    CHECK(cfg->tls.inbound.profile.name == TlsProfileName::strict);
    CHECK(cfg->tls.inbound.profile.min_version == "TLSv1.3");
    CHECK(cfg->tls.inbound.profile.ciphers == "ECDHE+AESGCM");
    CHECK(cfg->tls.inbound.profile.ciphersuites == "TLS_AES_256_GCM_SHA384");
    CHECK(cfg->tls.inbound.profile.groups == "X25519");
    CHECK(cfg->tls.outbound.default_level == OutboundLevel::none);
    CHECK(cfg->tls.outbound.profile.name == TlsProfileName::compat);
    CHECK(cfg->tls.outbound.profile.min_version == "TLSv1");
    CHECK(cfg->tls.outbound.fallback == Fallback::defer);
    CHECK(cfg->tls.outbound.tlsrpt.contact == "tlsrpt@example.org");
    REQUIRE(cfg->dns.resolver.has_value());
    CHECK(cfg->dns.resolver->text() == "127.0.0.1:53");
    CHECK(cfg->dns.dnssec == DnssecMode::off);
    REQUIRE(cfg->domains.size() == 2);
    const Domain* d = cfg->find_domain("example.org");
    REQUIRE(d != nullptr);
    CHECK(d->recipients == std::vector<std::string>{"alice@example.org", "@example.org"});
    CHECK(d->downstream.lmtp);
    CHECK(d->downstream.address.text() == "[2001:db8::25]:24");
    CHECK(d->downstream.tls == DownstreamTls::pin);
    CHECK(d->downstream.pin.size() == 1);
    CHECK(d->mark.line == 19);
    CHECK(cfg->find_domain("example.net")->downstream.tls == DownstreamTls::opportunistic);
    CHECK(cfg->limits.message_size == 10ull << 20);
    CHECK(cfg->limits.recipients == 50);
    CHECK(cfg->limits.connections == 100);
    CHECK(cfg->limits.connections_per_ip == 5);
    CHECK(cfg->limits.line_length == 2000);
    CHECK(cfg->limits.timeouts.command == minutes(10));
    CHECK(cfg->limits.timeouts.data_block == hours(1));
    CHECK(cfg->limits.timeouts.tls_handshake == seconds(5));
    CHECK(cfg->queue.retry == std::vector<Duration>{minutes(1), hours(2)});
    CHECK(cfg->queue.max_lifetime == hours(48));
    CHECK(cfg->queue.delay_warning == minutes(30));
    REQUIRE(cfg->metrics.address.has_value());
    CHECK(cfg->metrics.address->text() == "127.0.0.1:9325");
}

TEST_CASE("every error is reported at once, in file order, at the offending value", "[conf][loader]") {
    const std::string yaml =
        "hostname: mx.example.org\n"                                      // 1
        "spool: /var/spool/mxgate\n"                                      // 2
        "log: {format: xml, level: loud}\n"                               // 3
        "tls: {self_signed: yes}\n"                                       // 4
        "listeners:\n"                                                    // 5
        "  - {name: mx, address: \"[::]:25\", tls: starttls}\n"           // 6
        "  - {name: mx, address: \"[::]:25\", tls: startls}\n"            // 7
        "limits:\n"                                                       // 8
        "  message_size: 10MB\n"                                          // 9
        "  recipients: many\n"                                            // 10
        "  timeouts: {command: 0s, data_block: -3m}\n"                    // 11
        "queue: {retry: [5m, 10], max_lifetime: 5 days}\n"                // 12
        "domains:\n"                                                      // 13
        "  - {name: example.org, recipients: ['@example.org'], downstream: {address: 'h.example.org:25'}}\n";
    const std::vector<std::string> expected = {
        "t.yaml:3:15: log.format: invalid value 'xml' (expected json or text)",
        "t.yaml:3:27: log.level: invalid value 'loud' (expected debug, info, warn or error)",
        "t.yaml:4:20: tls.self_signed: expected true or false, found 'yes'",
        "t.yaml:7:12: listeners[1].name: duplicate listener name 'mx'",
        "t.yaml:7:25: listeners[1].address: address [::]:25 is already used by listener 'mx'",
        "t.yaml:7:41: listeners[1].tls: invalid value 'startls' (expected none, starttls or implicit)",
        "t.yaml:9:17: limits.message_size: invalid size '10MB' (expected bytes, or a number and K, M, G or T "
        "(binary), e.g. 512K, 10M)",
        "t.yaml:10:15: limits.recipients: expected an integer from 1 to 100000, found 'many'",
        "t.yaml:11:23: limits.timeouts.command: must be longer than 0s",
        "t.yaml:11:39: limits.timeouts.data_block: invalid duration '-3m' (expected a whole number and a unit "
        "s, m, h or d, e.g. 30s, 5m, 2h, 5d)",
        "t.yaml:12:21: queue.retry[1]: invalid duration '10' (expected a whole number and a unit s, m, h or d, "
        "e.g. 30s, 5m, 2h, 5d)",
        "t.yaml:12:40: queue.max_lifetime: invalid duration '5 days' (expected a whole number and a unit s, m, "
        "h or d, e.g. 30s, 5m, 2h, 5d)",
    };
    const LoadResult r = load_text(yaml, "t.yaml");
    CHECK(r.config == nullptr);
    std::vector<std::string> got;
    for (const Diagnostic& d : r.errors) got.push_back(d.text());
    CHECK(got == expected);
}

TEST_CASE("unknown keys are reported at the key, with a suggestion", "[conf][loader]") {
    const std::string yaml = kBase +
                             "limits:\n"
                             "  mesage_size: 10M\n"
                             "  timeouts: {comand: 5m}\n"
                             "tsl: {}\n"
                             "polcy:\n"
                             "  spf: {enable: false}\n"
                             "frobnicate: 1\n";
    CHECK(errors_of(yaml) == std::vector<std::string>{
                                 "t.yaml:6:3: limits.mesage_size: unknown key (did you mean 'message_size'?)",
                                 "t.yaml:7:14: limits.timeouts.comand: unknown key (did you mean 'command'?)",
                                 "t.yaml:8:1: tsl: unknown key (did you mean 'tls'?)",
                                 "t.yaml:9:1: polcy: unknown key (did you mean 'policy'?)",
                                 "t.yaml:11:1: frobnicate: unknown key",
                             });
}

TEST_CASE("duplicate keys, wrong types and syntax errors", "[conf][loader]") {
    SECTION("duplicate key") {
        CHECK(errors_of(kBase + "spool: /a\nspool: /b\n") ==
              std::vector<std::string>{"t.yaml:6:1: spool: duplicate key"});
    }
    SECTION("a map where a string belongs, a string where a map belongs") {
        CHECK(errors_of(kBase + "spool: {a: 1}\nlog: json\nlisteners: {name: mx}\n") ==
              std::vector<std::string>{
                  "t.yaml:5:8: spool: expected a string, found a map",
                  "t.yaml:6:6: log: expected a map, found a string",
                  "t.yaml:7:12: listeners: expected a list, found a map",
              });
    }
    SECTION("an empty value points at its key") {
        CHECK(errors_of(kBase + "spool:\nlog: {}\n") ==
              std::vector<std::string>{"t.yaml:5:1: spool: expected a string, found nothing"});
    }
    SECTION("a document that is not a map") {
        CHECK(errors_of("- a\n- b\n") ==
              std::vector<std::string>{"t.yaml:1:1: configuration: expected a map, found a list"});
    }
    SECTION("YAML syntax error, 1-based position") {
        const std::vector<std::string> e = errors_of("hostname: mx.example.org\nlog: {format: json\n");
        REQUIRE(e.size() == 1);
        CHECK_THAT(e[0], Catch::StartsWith("t.yaml:3:1: YAML syntax error: "));
    }
    SECTION("two documents") {
        CHECK(errors_of(kBase + "---\nspool: /x\n") ==
              std::vector<std::string>{
                  "t.yaml:5:1: the configuration must be one YAML document (found a second one)"});
    }
}

TEST_CASE("listener rules", "[conf][loader]") {
    const std::string tail =
        "hostname: mx.example.org\n"
        "tls: {self_signed: true}\n"
        "domains: [{name: example.org, recipients: ['@example.org'], downstream: {address: 'h.example.org:25'}}]\n";
    CHECK(errors_of("listeners: []\n" + tail) ==
          std::vector<std::string>{"t.yaml:1:12: listeners: at least one listener is required"});
    CHECK(errors_of("listeners: [{role: mx}]\n" + tail) ==
          std::vector<std::string>{"t.yaml:1:13: listeners[0].name: required",
                                   "t.yaml:1:13: listeners[0].address: required"});
    CHECK(errors_of("listeners: [{name: mx, address: 'localhost:25', lab: {}}]\n" + tail) ==
          std::vector<std::string>{"t.yaml:1:49: listeners[0].lab: only allowed with role: lab"});
    CHECK(errors_of("listeners: [{name: mx, address: '::1:25'}]\n" + tail) ==
          std::vector<std::string>{"t.yaml:1:33: listeners[0].address: invalid address '::1:25' (expected "
                                   "host:port, e.g. 127.0.0.1:2525, [::]:25, mx.example.org:25)"});
    CHECK(errors_of("listeners: [{name: mx, address: 'localhost:25'}]\nmetrics: {address: 'localhost:25'}\n" +
                    tail) == std::vector<std::string>{"t.yaml:2:10: metrics.address: localhost:25 is already "
                                                      "listener 'mx''s address"});
}

TEST_CASE("certificate files must exist unless tls.self_signed", "[conf][loader]") {
    const std::string domains =
        "domains: [{name: example.org, recipients: ['@example.org'], downstream: {address: 'h.example.org:25'}}]\n";
    SECTION("written paths point at their values") {
        CHECK(errors_of("hostname: mx.example.org\n"
                        "tls: {certificate: /nonexistent/c.pem, key: /nonexistent/k.pem}\n" +
                        domains) ==
              std::vector<std::string>{"t.yaml:2:20: tls.certificate: no such file '/nonexistent/c.pem'",
                                       "t.yaml:2:45: tls.key: no such file '/nonexistent/k.pem'"});
    }
    SECTION("default paths point at the listener that needs them") {
        const std::vector<std::string> e = errors_of(
            "hostname: mx.example.org\nlisteners: [{name: mx, address: '[::]:25'}]\n" + domains);
        REQUIRE(e.size() == 2);
        CHECK_THAT(e[0], Catch::StartsWith("t.yaml:2:13: tls.certificate: no such file "
                                           "'/etc/mxgate/fullchain.pem' (the default; listener 'mx' needs it"));
    }
    SECTION("no TLS listener, no certificate needed") {
        load_ok("hostname: mx.example.org\nlisteners: [{name: mx, address: '[::]:25', tls: none}]\n" + domains);
    }
    SECTION("existing files are accepted") {
        TempDir dir;
        const std::string cert = dir.write("c.pem", "x");
        const std::string key = dir.write("k.pem", "x");
        const auto cfg = load_ok("hostname: mx.example.org\ntls: {certificate: " + cert + ", key: " + key +
                                 "}\n" + domains);
        CHECK_FALSE(cfg->tls.generate_self_signed);
        CHECK(cfg->tls.certificate == cert);
    }
}

TEST_CASE("hostname, dns and limits values", "[conf][loader]") {
    CHECK(errors_of("hostname: -bad.example\ntls: {self_signed: true}\ndomains: [{name: example.org, "
                    "recipients: ['@example.org'], downstream: {address: 'h.example.org:25'}}]\n") ==
          std::vector<std::string>{
              "t.yaml:1:11: hostname: domain label starts or ends with '-': '-bad.example'"});
    CHECK(errors_of(kBase + "dns: {resolver: 'ns.example.org:53', dnssec: maybe}\n") ==
          std::vector<std::string>{"t.yaml:5:17: dns.resolver: invalid resolver 'ns.example.org:53' (expected "
                                   "system, or IP:port such as 127.0.0.1:53 or [::1]:53)",
                                   "t.yaml:5:46: dns.dnssec: invalid value 'maybe' (expected trust-ad, validate "
                                   "or off)"});
    CHECK(load_ok(kBase + "dns: {resolver: '[::1]:5353'}\n")->dns.resolver->text() == "[::1]:5353");
    CHECK(errors_of(kBase + "limits: {line_length: 999, message_size: 0, connections: 10, connections_per_ip: 11}\n") ==
          std::vector<std::string>{
              "t.yaml:5:23: limits.line_length: expected an integer from 1000 to 1048576, found '999'",
              "t.yaml:5:42: limits.message_size: must be more than 0 bytes",
              "t.yaml:5:82: limits.connections_per_ip: 11 is more than limits.connections (10)"});
    CHECK(errors_of(kBase + "queue: {retry: []}\n") ==
          std::vector<std::string>{"t.yaml:5:16: queue.retry: at least one interval is required"});
    CHECK(load_ok(kBase + "metrics: {address: null}\n")->metrics.address == std::nullopt);
}

TEST_CASE("load_file reports an unreadable file without a position", "[conf][loader]") {
    const LoadResult r = load_file("/nonexistent/mxgate.yaml");
    REQUIRE(r.errors.size() == 1);
    CHECK(r.errors[0].text() == "/nonexistent/mxgate.yaml: cannot read: No such file or directory");
}

TEST_CASE("load_file reads a file and names it in diagnostics", "[conf][loader]") {
    TempDir dir;
    const std::string path = dir.write("m.yaml", kBase + "spool: [x]\n");
    const LoadResult r = load_file(path);
    REQUIRE(r.errors.size() == 1);
    CHECK(r.errors[0].text() == path + ":5:8: spool: expected a string, found a list");
}

TEST_CASE("the development config in contrib/ loads", "[conf][loader]") {
    const LoadResult r = load_file(std::string(MXGATE_SOURCE_DIR) + "/contrib/mxgate.dev.yaml");
    for (const Diagnostic& d : r.errors) UNSCOPED_INFO(d.text());
    REQUIRE(r.config != nullptr);
    const Config& cfg = *r.config;
    CHECK(cfg.hostname == "mx.dev.test");
    CHECK(cfg.spool == "./dev-spool");
    CHECK(cfg.tls.generate_self_signed);
    REQUIRE(cfg.listeners.size() == 3);
    CHECK(cfg.listeners[0].address.text() == "127.0.0.1:2525");
    CHECK(cfg.listeners[1].role == ListenerRole::submission);
    CHECK(cfg.listeners[2].tls == ListenerTls::implicit);
    CHECK(cfg.auth.sasldb == "./dev-spool/sasldb2");
    REQUIRE(cfg.find_domain("example.test") != nullptr);
    CHECK(cfg.find_domain("example.test")->downstream.address.text() == "127.0.0.1:2526");
    CHECK(cfg.metrics.address->text() == "127.0.0.1:9325");
}
