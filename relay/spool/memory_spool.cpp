// relay/spool/memory_spool.cpp — make_memory_spool(): the Spool for unit
// tests of the session and queue manager. Same contract as the file spool
// (ids validated, commit refuses an envelope load() would reject, update
// checks the recipient count, hold/release/remove/quarantine on committed
// messages only), no disk and no durability. Thread-safe (one mutex).
#include <map>
#include <mutex>

#include "relay/spool/message_state.hpp"
#include "relay/spool/spool.hpp"

namespace mxgate::spool {

namespace {

struct Stored {
    Envelope env;
    std::string body;
    std::optional<DeliveryState> state;  // nullopt = never updated
    bool held = false;
};

struct Store {
    std::mutex mu;
    std::map<std::string, Stored> messages;  // ordered: list() sorts by id
    std::map<std::string, std::string> corrupt;  // id → why
};

class MemoryWriter final : public Spool::Writer {
public:
    explicit MemoryWriter(std::shared_ptr<Store> store) : store_(std::move(store)), id_(new_queue_id()) {}
    const std::string& id() const override { return id_; }
    bool write(std::string_view data) override {
        if (done_) return false;
        body_.append(data);
        return true;
    }
    bool commit(const Envelope& env, Destination to) override {
        if (done_) return false;
        done_ = true;
        Stored s;
        s.held = to == Destination::hold;
        s.env = env;
        s.env.id = id_;
        s.env.size = body_.size();
        if (!storable(s.env)) return false;
        s.body = std::move(body_);
        std::lock_guard lock(store_->mu);
        return store_->messages.emplace(id_, std::move(s)).second;
    }
    void abort() override {
        done_ = true;
        body_.clear();
    }
    bool read(uint64_t offset, size_t max, std::string& out) override {
        out.clear();
        if (done_ || offset > body_.size()) return false;
        out = body_.substr(static_cast<size_t>(offset), max);
        return true;
    }
    bool replace_head(uint64_t length, std::string_view head) override {
        if (done_ || length > body_.size()) return false;
        body_.replace(0, static_cast<size_t>(length), head);
        return true;
    }

private:
    std::shared_ptr<Store> store_;
    std::string id_;
    std::string body_;
    bool done_ = false;
};

class MemorySpool final : public Spool {
public:
    std::unique_ptr<Writer> begin() override { return std::make_unique<MemoryWriter>(store_); }

    std::optional<QueuedMessage> load(const std::string& id) override {
        std::lock_guard lock(store_->mu);
        const Stored* s = find(id);
        if (!s) return std::nullopt;
        QueuedMessage msg;
        msg.envelope = s->env;
        msg.held = s->held;
        msg.path = "memory:" + std::string(s->held ? "hold/" : "queue/") + id;
        if (!attach_state(msg, s->state ? *s->state : fresh_state(s->env))) return std::nullopt;
        return msg;
    }

    bool read_body(const std::string& id, std::string& out) override {
        std::lock_guard lock(store_->mu);
        const Stored* s = find(id);
        if (!s) return false;
        out = s->body;
        return true;
    }

    bool update(const std::string& id, const DeliveryState& st) override {
        std::lock_guard lock(store_->mu);
        Stored* s = find(id);
        if (!s || !storable(st, s->env.recipients.size())) return false;
        s->state = decode_state(encode_state(st));  // normalised as on disk
        return true;
    }

    bool remove(const std::string& id) override {
        std::lock_guard lock(store_->mu);
        return find(id) && store_->messages.erase(id) == 1;
    }

    bool hold(const std::string& id) override { return set_held(id, true); }
    bool release(const std::string& id) override { return set_held(id, false); }

    std::vector<std::string> list(bool held) override {
        std::lock_guard lock(store_->mu);
        std::vector<std::string> ids;
        for (const auto& [id, s] : store_->messages)
            if (s.held == held) ids.push_back(id);
        return ids;
    }

    std::string quarantine(const std::string& id, const std::string& why) override {
        std::lock_guard lock(store_->mu);
        if (!find(id)) return {};
        store_->messages.erase(id);
        store_->corrupt[id] = why;
        return "memory:corrupt/" + id;
    }

private:
    Stored* find(const std::string& id) {
        if (!is_valid_queue_id(id)) return nullptr;
        auto it = store_->messages.find(id);
        return it == store_->messages.end() ? nullptr : &it->second;
    }
    bool set_held(const std::string& id, bool held) {
        std::lock_guard lock(store_->mu);
        Stored* s = find(id);
        if (!s || s->held == held) return false;
        s->held = held;
        return true;
    }

    std::shared_ptr<Store> store_ = std::make_shared<Store>();
};

}  // namespace

std::shared_ptr<Spool> make_memory_spool() { return std::make_shared<MemorySpool>(); }

}  // namespace mxgate::spool
