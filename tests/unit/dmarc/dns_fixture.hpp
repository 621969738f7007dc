// A StaticResolver served from an I/O thread, the way the check pool's
// workers reach the real one: tests call the blocking checks on the test
// thread, marked as a worker.
#pragma once

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <memory>
#include <string>
#include <thread>

#include "dmarc/blocking_dns.hpp"
#include "relay/core/resolver.hpp"

namespace mxgate::testing {

inline std::string txt_rdata(const std::string& s) {
    std::string out;
    size_t i = 0;
    do {
        const std::string part = s.substr(i, 255);
        out += static_cast<char>(part.size());
        out += part;
        i += 255;
    } while (i < s.size());
    return out;
}

inline std::string a_rdata(unsigned a, unsigned b, unsigned c, unsigned d) {
    return std::string{static_cast<char>(a), static_cast<char>(b), static_cast<char>(c), static_cast<char>(d)};
}

struct DnsFixture {
    boost::asio::io_context io;
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work{io.get_executor()};
    std::shared_ptr<core::StaticResolver> zone = std::make_shared<core::StaticResolver>();
    dmarc::BlockingDns dns{io.get_executor(), zone, std::chrono::seconds(2)};
    std::thread thread{[this] { io.run(); }};
    dmarc::BlockingDns::WorkerMark mark;

    void txt(const std::string& name, const std::string& text) { zone->add_record(name, core::rrtype::TXT, txt_rdata(text)); }
    void a(const std::string& name, const std::string& rdata) { zone->add_record(name, core::rrtype::A, rdata); }
    void servfail(const std::string& name, uint16_t type) {
        core::DnsReply r;
        r.status = core::DnsStatus::temp_fail;
        r.error = "SERVFAIL";
        zone->add(name, type, r);
    }
    ~DnsFixture() {
        work.reset();
        io.stop();
        thread.join();
    }
};

}  // namespace mxgate::testing
