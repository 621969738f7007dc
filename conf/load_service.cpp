// conf/load_service.cpp — the operational sections: `log`, `dns`, `limits`,
// `queue` and `metrics`. Zero is refused wherever it would mean "nothing
// works" (a 0-byte message limit, a 0s timeout, an empty retry schedule).
#include "conf/detail.hpp"

namespace mxgate::conf::detail {

void load_log(Ctx& c, const Entry& e) {
    LogConfig& log = c.cfg.log;
    const Section s(c.err, e, {"format", "level", "file"});
    if (!s.valid()) return;
    read_into(s, "format", log.format, [&](const Entry& v) {
        return as_enum<LogFormat>(c.err, v, {{"json", LogFormat::json}, {"text", LogFormat::text}});
    });
    read_into(s, "level", log.level, [&](const Entry& v) {
        return as_enum<LogLevel>(c.err, v, {{"debug", LogLevel::debug}, {"info", LogLevel::info},
                                            {"warn", LogLevel::warn}, {"error", LogLevel::error}});
    });
    read_into(s, "file", log.file, [&](const Entry& v) { return as_string(c.err, v); });
}

void load_dns(Ctx& c, const Entry& e) {
    DnsConfig& dns = c.cfg.dns;
    const Section s(c.err, e, {"resolver", "dnssec", "trust_anchor"});
    if (!s.valid()) return;
    if (const Entry* r = s.find("resolver")) {
        if (std::optional<std::string> v = as_string(c.err, *r); v && *v != "system") {
            // A resolver is an address: looking up the resolver's own name
            // would need a resolver.
            std::optional<HostPort> hp = parse_host_port(*v);
            const bool literal = hp && (hp->host.find(':') != std::string::npos ||
                                        hp->host.find_first_not_of("0123456789.") == std::string::npos);
            if (!literal)
                c.err.at(*r, r->path + ": invalid resolver " + clip(*v) +
                                       " (expected system, or IP:port such as 127.0.0.1:53 or [::1]:53)");
            else
                dns.resolver = hp;
        }
    }
    if (const Entry* d = read_into(s, "dnssec", dns.dnssec, [&](const Entry& v) {
            return as_enum<DnssecMode>(c.err, v, {{"trust-ad", DnssecMode::trust_ad},
                                                  {"validate", DnssecMode::validate},
                                                  {"off", DnssecMode::off}});
        });
        d != nullptr && dns.dnssec == DnssecMode::validate)
        refuse_unbuilt(c.err, Feature::dnssec_validate, d->value, d->path + ": validate");
    // Only libunbound's own validation uses an anchor: elsewhere the key
    // would silently do nothing, which the contract forbids.
    if (const Entry* t = read_into(s, "trust_anchor", dns.trust_anchor, [&](const Entry& v) { return as_string(c.err, v); });
        t != nullptr && dns.dnssec != DnssecMode::validate)
        c.err.at(*t, t->path + ": only used with dnssec: validate");
}

void load_limits(Ctx& c, const Entry& e) {
    Limits& lim = c.cfg.limits;
    const Section s(c.err, e, {"message_size", "recipients", "connections", "connections_per_ip", "line_length",
                               "timeouts"});
    if (!s.valid()) return;
    const auto integer = [&](std::string_view key, int& out, int64_t min, int64_t max) {
        read_into(s, key, out, [&](const Entry& v) -> std::optional<int> {
            if (std::optional<int64_t> n = as_int(c.err, v, min, max)) return static_cast<int>(*n);
            return std::nullopt;
        });
    };
    read_into(s, "message_size", lim.message_size, [&](const Entry& v) { return as_size(c.err, v); });
    // RFC 5321 §4.5.3.1.8: a server must accept at least 100 recipients; fewer is allowed but unusual.
    integer("recipients", lim.recipients, 1, 100000);
    integer("connections", lim.connections, 1, 1000000);
    integer("connections_per_ip", lim.connections_per_ip, 1, 1000000);
    // RFC 5321 §4.5.3.1.6: 1000 octets with CRLF is the minimum a server must take.
    integer("line_length", lim.line_length, 1000, 1 << 20);
    if (const Entry* t = s.find("timeouts")) {
        const Section ts(c.err, *t, {"command", "data_block", "tls_handshake"});
        if (ts.valid()) {
            read_into(ts, "command", lim.timeouts.command, [&](const Entry& v) { return as_duration(c.err, v); });
            read_into(ts, "data_block", lim.timeouts.data_block, [&](const Entry& v) { return as_duration(c.err, v); });
            read_into(ts, "tls_handshake", lim.timeouts.tls_handshake,
                      [&](const Entry& v) { return as_duration(c.err, v); });
        }
    }
    if (lim.connections_per_ip > lim.connections) {
        if (const Entry* v = s.find("connections_per_ip"))
            c.err.at(*v, v->path + ": " + std::to_string(lim.connections_per_ip) +
                                   " is more than limits.connections (" + std::to_string(lim.connections) + ")");
    }
}

void load_queue(Ctx& c, const Entry& e) {
    QueueConfig& q = c.cfg.queue;
    const Section s(c.err, e, {"retry", "max_lifetime", "delay_warning"});
    if (!s.valid()) return;
    if (const Entry* r = s.find("retry")) {
        if (std::optional<std::vector<Entry>> items = as_list(c.err, *r)) {
            std::vector<Duration> retry;
            bool ok = true;
            for (const Entry& item : *items) {
                if (std::optional<Duration> d = as_duration(c.err, item)) retry.push_back(*d);
                else ok = false;
            }
            if (ok && retry.empty())
                c.err.at(*r, r->path + ": at least one interval is required");
            else if (ok)
                q.retry = std::move(retry);
        }
    }
    read_into(s, "max_lifetime", q.max_lifetime, [&](const Entry& v) { return as_duration(c.err, v); });
    read_into(s, "delay_warning", q.delay_warning, [&](const Entry& v) { return as_duration(c.err, v); });
}

void load_metrics(Ctx& c, const Entry& e) {
    const Section s(c.err, e, {"address"});
    if (!s.valid()) return;
    if (const Entry* a = s.find("address"); a != nullptr && !is_null(*a))
        c.cfg.metrics.address = as_host_port(c.err, *a);
}

}  // namespace mxgate::conf::detail
