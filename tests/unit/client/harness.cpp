// tests/unit/client/harness.cpp — see harness.hpp.
#include "harness.hpp"

#include <openssl/pem.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <thread>

namespace mxgate::clienttest {

namespace asio = boost::asio;
namespace fs = std::filesystem;

namespace {

void sh(const std::string& cmd) {
    if (std::system((cmd + " >/dev/null 2>&1").c_str()) != 0) throw std::runtime_error("failed: " + cmd);
}

std::string make_tmpdir(const char* tag) {
    std::string templ = std::string("/tmp/mxgate-client-") + tag + "-XXXXXX";
    if (!mkdtemp(templ.data())) throw std::runtime_error("mkdtemp");
    return templ;
}

void leaf(const Pki& p, const std::string& name, const std::string& cert, const std::string& key) {
    const std::string csr = p.dir + "/" + name + ".csr", ext = p.dir + "/" + name + ".ext";
    std::ofstream(ext) << "subjectAltName=DNS:" << name << "\n";
    sh("openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout " + key +
       " -out " + csr + " -subj /CN=" + name);
    sh("openssl x509 -req -in " + csr + " -CA " + p.ca_cert + " -CAkey " + p.dir + "/ca.key" +
       " -CAcreateserial -days 2 -out " + cert + " -extfile " + ext);
}

}  // namespace

const Pki& pki() {
    static const Pki p = [] {
        Pki p;
        p.dir = make_tmpdir("pki");
        p.ca_cert = p.dir + "/ca.pem";
        sh("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout " + p.dir +
           "/ca.key -out " + p.ca_cert + " -days 2 -subj /CN=mxgate-test-ca");
        p.home_cert = p.dir + "/home.pem";
        p.home_key = p.dir + "/home.key";
        leaf(p, "home.test", p.home_cert, p.home_key);
        p.other_cert = p.dir + "/other.pem";
        p.other_key = p.dir + "/other.key";
        leaf(p, "other.test", p.other_cert, p.other_key);
        p.self_cert = p.dir + "/self.pem";
        p.self_key = p.dir + "/self.key";
        sh("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout " + p.self_key +
           " -out " + p.self_cert + " -days 2 -subj /CN=home.test -addext subjectAltName=DNS:home.test");
        return p;
    }();
    return p;
}

std::string pin_of(const std::string& cert_file) {
    FILE* f = std::fopen(cert_file.c_str(), "r");
    if (!f) throw std::runtime_error("open " + cert_file);
    X509* x = PEM_read_X509(f, nullptr, nullptr, nullptr);
    std::fclose(f);
    if (!x) throw std::runtime_error("parse " + cert_file);
    std::string pin = tlspolicy::spki_pin(x);
    X509_free(x);
    return pin;
}

tlspolicy::ContextPtr server_ctx(const std::string& cert, const std::string& key) {
    std::string err;
    auto ctx = tlspolicy::make_server_context(conf::TlsProfile{}, cert, key, err);
    if (!ctx) throw std::runtime_error("server context: " + err);
    return ctx;
}

tlspolicy::ContextPtr client_ctx(const std::string& ca_file) {
    std::string err;
    conf::TlsProfile prof;
    prof.name = conf::TlsProfileName::intermediate;
    auto ctx = tlspolicy::make_client_context(prof, ca_file, err);
    if (!ctx) throw std::runtime_error("client context: " + err);
    return ctx;
}

spool::Envelope make_envelope(const std::vector<std::string>& rcpts, std::string prepend, const std::string& body) {
    spool::Envelope env;
    env.id = "TESTID";
    env.sender = "sender@origin.example";
    for (const auto& r : rcpts) env.recipients.push_back(spool::Recipient{r, "", spool::RcptState::pending, ""});
    env.prepend = std::move(prepend);
    env.size = body.size();
    return env;
}

std::vector<client::DeliveryOutcome> run_deliveries(asio::io_context& ioc, client::DownstreamCourier& courier,
                                                    const std::vector<spool::Envelope>& envs,
                                                    const std::vector<std::string>& bodies,
                                                    bool* conn_kept_after_first) {
    std::vector<client::DeliveryOutcome> outs;
    std::exception_ptr failure;
    auto body = [&]() -> asio::awaitable<void> {
        std::unique_ptr<client::Connection> conn;
        for (size_t i = 0; i < envs.size(); ++i) {
            std::vector<size_t> idx(envs[i].recipients.size());
            for (size_t k = 0; k < idx.size(); ++k) idx[k] = k;
            outs.push_back(co_await courier.deliver(envs[i], bodies[i], idx, conn));
            if (i == 0 && conn_kept_after_first) *conn_kept_after_first = conn != nullptr;
        }
        co_await courier.close(conn);
    };
    asio::co_spawn(ioc, body(), [&](std::exception_ptr e) {
        failure = e;
        ioc.stop();
    });
    ioc.run_for(std::chrono::seconds(60));
    ioc.restart();
    if (failure) std::rethrow_exception(failure);
    return outs;
}

uint16_t free_port() {
    asio::io_context ioc;
    asio::ip::tcp::acceptor a(ioc, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    return a.local_endpoint().port();
}

SmtpSink::SmtpSink(std::vector<std::string> extra) {
    if (access("/usr/sbin/smtp-sink", X_OK) != 0) return;
    dir_ = make_tmpdir("sink");
    port_ = free_port();
    std::vector<std::string> args = {"smtp-sink", "-u", "root", "-d", dir_ + "/%M."};
    for (auto& e : extra) args.push_back(e);
    args.push_back("127.0.0.1:" + std::to_string(port_));
    args.push_back("10");
    const pid_t pid = fork();
    if (pid == 0) {
        std::vector<char*> argv;
        for (auto& a : args) argv.push_back(a.data());
        argv.push_back(nullptr);
        execv("/usr/sbin/smtp-sink", argv.data());
        _exit(127);
    }
    pid_ = pid;
    // Wait until it listens.
    for (int i = 0; i < 100; ++i) {
        asio::io_context ioc;
        asio::ip::tcp::socket s(ioc);
        boost::system::error_code ec;
        s.connect(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), port_), ec);
        if (!ec) return;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
}

SmtpSink::~SmtpSink() {
    if (pid_ > 0) {
        kill(pid_, SIGTERM);
        waitpid(pid_, nullptr, 0);
    }
    if (!dir_.empty()) {
        std::error_code ec;
        fs::remove_all(dir_, ec);
    }
}

std::vector<std::string> SmtpSink::dumps() const {
    std::vector<std::string> names;
    std::error_code ec;
    for (const auto& e : fs::recursive_directory_iterator(dir_, ec))
        if (e.is_regular_file()) names.push_back(e.path().string());
    std::sort(names.begin(), names.end());
    std::vector<std::string> out;
    for (const auto& n : names) {
        std::ifstream in(n, std::ios::binary);
        out.emplace_back(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
    return out;
}

}  // namespace mxgate::clienttest
