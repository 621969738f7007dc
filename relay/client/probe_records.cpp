// relay/client/probe_records.cpp — see probe_records.hpp.
#include "relay/client/probe_records.hpp"

namespace mxgate::client::probe {

namespace {

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return out;
}

bool is_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }

// "k1=v1; k2=v2" (RFC 8461 §3.1).
std::vector<std::pair<std::string, std::string>> split_fields(std::string_view s) {
    std::vector<std::pair<std::string, std::string>> out;
    while (!s.empty() && out.size() < 64) {
        const size_t semi = s.find(';');
        std::string_view field = trim(s.substr(0, semi));
        s = semi == std::string_view::npos ? std::string_view() : s.substr(semi + 1);
        if (field.empty()) continue;
        const size_t eq = field.find('=');
        if (eq == std::string_view::npos) {
            out.emplace_back(std::string(field), std::string());
            continue;
        }
        out.emplace_back(std::string(trim(field.substr(0, eq))), std::string(trim(field.substr(eq + 1))));
    }
    return out;
}

}  // namespace

std::optional<StsRecord> parse_sts_txt(std::string_view txt, std::string& error) {
    error.clear();
    txt = trim(txt);
    if (txt.substr(0, 7) != "v=STSv1") return std::nullopt;  // not ours
    const auto fields = split_fields(txt);
    if (fields.empty() || fields[0].first != "v" || fields[0].second != "STSv1") {
        error = "the record must start with v=STSv1;";
        return std::nullopt;
    }
    StsRecord r;
    for (size_t i = 1; i < fields.size(); ++i) {
        if (fields[i].first != "id") continue;
        r.id = fields[i].second;
    }
    if (r.id.empty() || r.id.size() > 32) {
        error = "id= must be 1 to 32 letters or digits";
        return std::nullopt;
    }
    for (char c : r.id)
        if (!is_alnum(c)) {
            error = "id= must be 1 to 32 letters or digits";
            return std::nullopt;
        }
    return r;
}

std::optional<StsPolicy> parse_sts_policy(std::string_view body, std::string& error) {
    error.clear();
    StsPolicy p;
    bool version = false, have_mode = false, have_age = false;
    size_t lines = 0;
    while (!body.empty()) {
        if (++lines > 1000) {
            error = "too many lines";
            return std::nullopt;
        }
        size_t nl = body.find('\n');
        std::string_view line = body.substr(0, nl);
        body = nl == std::string_view::npos ? std::string_view() : body.substr(nl + 1);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        if (trim(line).empty()) continue;
        const size_t colon = line.find(':');
        if (colon == std::string_view::npos) {
            error = "line without \"key: value\": " + std::string(line.substr(0, 60));
            return std::nullopt;
        }
        const std::string key(trim(line.substr(0, colon)));
        const std::string_view value = trim(line.substr(colon + 1));
        if (key == "version") {
            if (value != "STSv1") {
                error = "version must be STSv1";
                return std::nullopt;
            }
            version = true;
        } else if (key == "mode") {
            if (value != "enforce" && value != "testing" && value != "none") {
                error = "mode must be enforce, testing or none, not \"" + std::string(value.substr(0, 20)) + "\"";
                return std::nullopt;
            }
            p.mode = std::string(value);
            have_mode = true;
        } else if (key == "max_age") {
            if (value.empty() || value.size() > 10) {
                error = "max_age must be a number of seconds up to 31557600";
                return std::nullopt;
            }
            uint64_t n = 0;
            for (char c : value) {
                if (c < '0' || c > '9') {
                    error = "max_age must be a number of seconds up to 31557600";
                    return std::nullopt;
                }
                n = n * 10 + static_cast<uint64_t>(c - '0');
            }
            if (n > 31557600) {
                error = "max_age must be a number of seconds up to 31557600";
                return std::nullopt;
            }
            p.max_age = static_cast<uint32_t>(n);
            have_age = true;
        } else if (key == "mx") {
            if (value.empty() || p.mx.size() >= 100) {
                error = "empty or too many mx lines";
                return std::nullopt;
            }
            p.mx.push_back(lower(value));
        }
    }
    if (!version) error = "no \"version: STSv1\" line";
    else if (!have_mode) error = "no mode line";
    else if (!have_age) error = "no max_age line";
    else if (p.mx.empty() && p.mode != "none") error = "no mx line";
    if (!error.empty()) return std::nullopt;
    return p;
}

bool sts_mx_matches(std::string_view pattern, std::string_view host) {
    std::string p = lower(pattern), h = lower(host);
    if (!p.empty() && p.back() == '.') p.pop_back();
    if (!h.empty() && h.back() == '.') h.pop_back();
    if (p.empty() || h.empty()) return false;
    if (p.size() > 2 && p[0] == '*' && p[1] == '.') {
        const size_t dot = h.find('.');
        return dot != std::string::npos && dot > 0 && h.substr(dot + 1) == p.substr(2);
    }
    return p == h;
}

std::optional<HttpResponse> parse_http_response(std::string_view raw, std::string& error, size_t max_body) {
    error.clear();
    const size_t head_end = raw.find("\r\n\r\n");
    if (head_end == std::string_view::npos || head_end > 16 * 1024) {
        error = "no complete HTTP header";
        return std::nullopt;
    }
    std::string_view head = raw.substr(0, head_end);
    std::string_view rest = raw.substr(head_end + 4);
    const size_t eol = head.find("\r\n");
    const std::string_view status_line = head.substr(0, eol);
    if (status_line.substr(0, 7) != "HTTP/1." || status_line.size() < 12 || status_line[8] != ' ') {
        error = "not an HTTP/1.x status line";
        return std::nullopt;
    }
    HttpResponse r;
    for (size_t i = 9; i < 12; ++i) {
        const char c = status_line[i];
        if (c < '0' || c > '9') {
            error = "bad HTTP status code";
            return std::nullopt;
        }
        r.status = r.status * 10 + (c - '0');
    }
    bool chunked = false;
    std::optional<size_t> length;
    std::string_view headers = eol == std::string_view::npos ? std::string_view() : head.substr(eol + 2);
    while (!headers.empty()) {
        const size_t e = headers.find("\r\n");
        std::string_view line = headers.substr(0, e);
        headers = e == std::string_view::npos ? std::string_view() : headers.substr(e + 2);
        const size_t colon = line.find(':');
        if (colon == std::string_view::npos) continue;
        const std::string name = lower(trim(line.substr(0, colon)));
        const std::string value = lower(trim(line.substr(colon + 1)));
        if (name == "content-type") {
            r.content_type = std::string(trim(std::string_view(value).substr(0, value.find(';'))));
        } else if (name == "transfer-encoding") {
            chunked = value.find("chunked") != std::string::npos;
        } else if (name == "content-length") {
            size_t n = 0;
            if (value.empty() || value.size() > 12) {
                error = "bad Content-Length";
                return std::nullopt;
            }
            for (char c : value) {
                if (c < '0' || c > '9') {
                    error = "bad Content-Length";
                    return std::nullopt;
                }
                n = n * 10 + static_cast<size_t>(c - '0');
            }
            length = n;
        }
    }
    if (chunked) {
        while (true) {
            const size_t e = rest.find("\r\n");
            if (e == std::string_view::npos || e == 0 || e > 16) {
                error = "bad chunk size line";
                return std::nullopt;
            }
            size_t n = 0;
            for (char c : rest.substr(0, e)) {
                if (c == ';') break;
                int d = (c >= '0' && c <= '9') ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10
                      : (c >= 'A' && c <= 'F') ? c - 'A' + 10 : -1;
                if (d < 0) {
                    error = "bad chunk size";
                    return std::nullopt;
                }
                n = n * 16 + static_cast<size_t>(d);
                if (n > max_body) {
                    error = "body larger than " + std::to_string(max_body) + " octets";
                    return std::nullopt;
                }
            }
            rest.remove_prefix(e + 2);
            if (n == 0) break;
            if (rest.size() < n + 2 || r.body.size() + n > max_body) {
                error = rest.size() < n + 2 ? "truncated chunk" : "body larger than " + std::to_string(max_body) + " octets";
                return std::nullopt;
            }
            r.body.append(rest.substr(0, n));
            rest.remove_prefix(n + 2);
        }
        return r;
    }
    if (length) {
        if (*length > max_body) {
            error = "body larger than " + std::to_string(max_body) + " octets";
            return std::nullopt;
        }
        if (rest.size() < *length) {
            error = "body shorter than Content-Length";
            return std::nullopt;
        }
        r.body = std::string(rest.substr(0, *length));
        return r;
    }
    if (rest.size() > max_body) {
        error = "body larger than " + std::to_string(max_body) + " octets";
        return std::nullopt;
    }
    r.body = std::string(rest);
    return r;
}

}  // namespace mxgate::client::probe
