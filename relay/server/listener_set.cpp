// relay/server/listener_set.cpp — see listener_set.hpp.
#include "relay/server/listener_set.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <stdexcept>

#include "relay/server/listener.hpp"

namespace mxgate::server {

namespace asio = boost::asio;

namespace {

std::shared_ptr<BoundListener> open_one(Runtime& rt, const conf::Listener& l) {
    auto acc = bind_listener(rt.io, l.address, "listener " + l.name);  // throws
    return std::make_shared<BoundListener>(BoundListener{l.name, l.address.text(), std::move(acc)});
}

}  // namespace

void ListenerSet::bind_all(const std::vector<conf::Listener>& listeners) {
    std::string error;
    if (!prepare(listeners, error)) throw std::runtime_error(error);
}

bool ListenerSet::prepare(const std::vector<conf::Listener>& next, std::string& error) {
    next_.clear();
    next_is_new_.clear();
    next_names_.clear();
    for (const auto& l : next) {
        const std::string key = l.address.text();
        std::shared_ptr<BoundListener> kept;
        for (const auto& c : current_)
            if (c->address == key) kept = c;
        if (kept) {
            next_.push_back(kept);
            next_is_new_.push_back(false);
            next_names_.push_back(l.name);
            continue;
        }
        try {
            next_.push_back(open_one(rt_, l));
        } catch (const std::exception& e) {
            // All or nothing: close what this reload bound; the running
            // sockets were never touched.
            boost::system::error_code ec;
            for (size_t i = 0; i < next_is_new_.size(); ++i)
                if (next_is_new_[i]) next_[i]->acceptor.close(ec);
            next_.clear();
            next_is_new_.clear();
            next_names_.clear();
            error = e.what();
            return false;
        }
        next_is_new_.push_back(true);
        next_names_.push_back(l.name);
    }
    return true;
}

ListenerSet::Changes ListenerSet::commit() {
    Changes ch;
    closed_.clear();
    boost::system::error_code ec;
    for (const auto& c : current_) {
        bool stays = false;
        for (const auto& n : next_) stays = stays || n == c;
        if (stays) continue;
        c->acceptor.close(ec);  // its accept loop ends; its sessions go on
        closed_.push_back(c);
        ch.closed.push_back(c.get());
    }
    for (size_t i = 0; i < next_.size(); ++i) {
        // Runs on the I/O thread, as the accept loops do: a connection
        // accepted after this line gets the new name and the new snapshot.
        next_[i]->name = next_names_[i];
        if (!next_is_new_[i]) continue;
        asio::co_spawn(rt_.io, accept_loop(rt_, next_[i]), asio::detached);
        ch.opened.push_back(next_[i].get());
    }
    current_ = std::move(next_);
    next_.clear();
    next_is_new_.clear();
    next_names_.clear();
    return ch;
}

void ListenerSet::close_all() {
    boost::system::error_code ec;
    for (const auto& c : current_) c->acceptor.close(ec);
}

}  // namespace mxgate::server
