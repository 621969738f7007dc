// relay/server/session_impl.hpp — the Session class behind run_session().
// Private to relay/server. Files:
//   session.cpp       the command loop, reply queue, HELO/EHLO, MAIL, RCPT,
//                     STARTTLS, ETRN and the small commands
//   session_policy.cpp DNSBL at connect, greylisting at RCPT (mx listener)
//   session_data.cpp  DATA and BDAT: streaming into the spool, the checks
//                     at end of data, the durable commit and the 250
//   session_auth.cpp  submission listeners (SPEC §5): AUTH, the TLS-first
//                     rules, and what MAIL/RCPT may do once authenticated
//   session_checks.cpp  the inbound sender checks of the mx listener at end
//                     of data (SPEC §6): From: rules, SPF, DKIM, DMARC,
//                     own-domain spoofing, Authentication-Results
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "dmarc/dmarc_eval.hpp"
#include "dmarc/verdicts.hpp"
#include "relay/core/reply.hpp"
#include "relay/net/smtp_stream.hpp"
#include "relay/server/runtime.hpp"
#include "relay/smtp/command.hpp"
#include "relay/smtp/data_reader.hpp"
#include "relay/smtp/line_framer.hpp"
#include "relay/smtp/recipient_policy.hpp"
#include "relay/smtp/replies.hpp"
#include "relay/spool/spool.hpp"
#include "tlspolicy/tlspolicy.hpp"

namespace mxgate::server {

// Header bytes kept for the From: checks (submission sender binding, mx
// inbound checks). Submission judges a larger header block on what was
// kept; the mx listener refuses it (552 5.3.4), as it would otherwise
// check a From: other than the one delivered.
inline constexpr size_t kMaxHeaderCapture = 256 * 1024;

class Session {
public:
    Session(Runtime& rt, std::shared_ptr<const Snapshot> snap, const conf::Listener& listener,
            boost::asio::ip::tcp::socket sock);
    boost::asio::awaitable<void> run();

private:
    // One mail transaction (MAIL .. end of data), reset by RSET, EHLO, STARTTLS.
    struct Transaction {
        bool active = false;
        std::string sender;
        std::string header;        // the message's header block (submission sender binding, mx checks)
        bool header_done = false;  // the empty line (or the size cap) was seen
        bool header_truncated = false;  // the block is longer than kMaxHeaderCapture
        smtp::Params params;
        std::vector<spool::Recipient> rcpts;
        // Shared with a DKIM job reading the file on the check pool.
        std::shared_ptr<spool::Spool::Writer> writer;
        std::optional<smtp::DataReader> bdat;  // CHUNKING in progress
        bool bdat_used = false;
        // mx listener: the message streams into the spool's incoming/ file
        // as it arrives; only its header block is kept (in `header`, up to
        // kMaxHeaderCapture) for the end-of-data checks, DKIM reads the
        // file, and the commit (or the discard) follows the verdict.
        bool capture = false;
    };

    // What the end-of-data checks decided (session_checks.cpp).
    struct InboundOutcome {
        std::optional<core::Reply> refuse;  // answer this instead of 250
        std::string reason;                 // for policy.reject
        std::string prepend;                // Authentication-Results (+ X-Spam-Flag)
        bool hold = false;                  // quarantine: hold
    };

    // --- session.cpp
    boost::asio::awaitable<bool> start_implicit_tls();
    boost::asio::awaitable<void> command_loop();
    boost::asio::awaitable<void> dispatch(const smtp::ParseResult& p);
    void on_helo(const smtp::Command& c, bool extended);
    void on_mail(const smtp::Command& c);
    void on_rcpt(const smtp::Command& c);
    boost::asio::awaitable<void> on_starttls(const smtp::Command& c);
    boost::asio::awaitable<void> on_etrn(const smtp::Command& c);
    void reset_transaction();
    bool starttls_offered() const;

    // --- session_auth.cpp
    bool submission() const { return listener_.role == conf::ListenerRole::submission; }
    std::vector<std::string> auth_offered() const;  // EHLO's AUTH line; empty = none
    boost::asio::awaitable<void> on_auth(const smtp::Command& c);
    boost::asio::awaitable<void> auth_before_tls(const smtp::AuthArgs& a);
    void count_auth_failure(const std::string& user, const std::string& client, const std::string& network,
                            auth::Lockout::Clock::time_point now);
    // Submission rules for MAIL (TLS, authentication, sender binding);
    // replies and returns false when the command is refused.
    bool submission_may_mail(const smtp::PathArgs& a);
    smtp::RecipientDecision submission_recipient(const smtp::Path& p) const;
    void capture_header(std::string_view chunk);
    // The From: header check at end of data (SPEC §5); nullopt = fine.
    std::optional<core::Reply> submission_header_verdict(std::string& reason) const;

    // --- session_requiretls.cpp (RFC 8689 REQUIRETLS, TLS-Required: No)
    bool requiretls_offered() const;   // EHLO keyword and MAIL parameter allowed
    // false = refused (the reply is queued): 530 5.7.10 before TLS, 555 5.7.30 not offered.
    bool requiretls_may_mail(const smtp::PathArgs& a);
    // false = refused 550 5.7.30: an owner domain whose downstream is not verify/pin.
    bool requiretls_may_rcpt(const conf::Domain* owner_domain);
    bool tls_required_no() const;      // submission header "TLS-Required: No" (ignored with REQUIRETLS)

    // --- session_policy.cpp (mx listener: DNSBL at connect, greylisting at RCPT)
    // Replies 554 and returns false when the client is listed.
    boost::asio::awaitable<bool> connect_policy();
    // RCPT with greylisting in front of on_rcpt().
    boost::asio::awaitable<void> on_rcpt_policy(const smtp::Command& c);

    // --- session_tls.cpp (inbound TLS observability, SPEC §7)
    // After a failed STARTTLS/implicit handshake: downgrade tracker (durable
    // write on the blocking pool), then the event.
    boost::asio::awaitable<void> handshake_failed(std::string helo_before);
    // After a successful one: tls.handshake, and the dry run's verdict.
    void handshake_done(const std::string& helo_before);
    // Before MAIL: require_tls (530 5.7.0) and the dry run's plaintext check.
    // false = refused (the reply is queued).
    boost::asio::awaitable<bool> mail_tls_gate(const smtp::Command& c);
    // After a plaintext message was accepted: tls.downgrade_suspected.
    boost::asio::awaitable<void> plaintext_accepted(const spool::Envelope& env);

    // --- session_data.cpp
    boost::asio::awaitable<void> on_data();
    boost::asio::awaitable<void> on_bdat(const smtp::Command& c);
    bool begin_message();
    // Writes pending output of the reader into the spool writer.
    void spool_write(std::string& chunk);
    boost::asio::awaitable<void> end_of_message(const smtp::DataReport& report);

    // --- session_lab.cpp (role: lab, SPEC §8: a hostile server that records
    // what clients do; never spools or relays)
    struct LabState;
    bool lab() const { return listener_.role == conf::ListenerRole::lab; }
    // The context for STARTTLS / implicit TLS: the lab's own on a lab listener.
    tlspolicy::ContextPtr tls_context() const;
    void lab_start();
    void lab_event(const char* result, const std::string& reason);
    void lab_caps(smtp::replies::EhloCaps& caps) const;
    // true: STARTTLS handled here (stripped, refused, handshake failed).
    boost::asio::awaitable<bool> lab_starttls();
    void lab_tls_done(bool ok);
    void lab_mail(const std::string& sender);
    boost::asio::awaitable<std::optional<std::string>> lab_read_line();
    boost::asio::awaitable<void> lab_auth(const smtp::Command& c);
    boost::asio::awaitable<void> lab_data();
    void lab_bdat();
    void lab_close();

    // --- session_checks.cpp
    struct SpfOutcome {
        bool checked = false;  // policy.spf.enabled and evaluated
        bool busy = false;     // the check pool was full (451 4.3.2)
        dmarc::SpfVerdict verdict;
    };
    struct DkimOutcome {
        bool checked = false;
        bool busy = false;
        dmarc::DkimVerdicts verdicts;
    };
    // session_checks_auth.cpp: SPF / DKIM through the check pool.
    boost::asio::awaitable<SpfOutcome> evaluate_spf();
    boost::asio::awaitable<DkimOutcome> evaluate_dkim();
    bool inbound_checks_on() const;
    // session_checks_report.cpp: a row for DMARC aggregate reports.
    struct DmarcReportFacts {
        const std::string& header_from;    // the author domain evaluated
        const std::string& policy_domain;  // where the record was found
        const std::string& record;         // its text (for rua)
        const dmarc::DmarcRecord& published;
        const dmarc::DmarcVerdict& verdict;
    };
    boost::asio::awaitable<void> record_dmarc_report(const DmarcReportFacts& facts, const SpfOutcome& spf,
                                                     const DkimOutcome& dkim);
    // `header`: the header block. May rewrite it (own-id
    // Authentication-Results removed); the caller then rewrites the file.
    boost::asio::awaitable<InboundOutcome> inbound_checks(std::string& header);

    // --- reply plumbing
    void reply(const core::Reply& r);
    void reply(int code, const char* esc, std::string text) { reply(core::Reply(code, esc, std::move(text))); }
    boost::asio::awaitable<bool> flush();
    void reject_event(const core::Reply& r, const std::string& reason);
    core::Event event(const char* name) const;

    Runtime& rt_;
    std::shared_ptr<const Snapshot> snap_;
    const conf::Config& cfg_;
    const conf::Listener& listener_;
    net::SmtpStream stream_;
    smtp::LineFramer framer_{smtp::kMaxAuthLine};
    std::string id_;
    std::string out_;
    std::string helo_;
    bool esmtp_ = false;
    bool quit_ = false;
    int errors_ = 0;
    int messages_ = 0;
    std::optional<tlspolicy::SessionInfo> tls_;
    std::string auth_user_;  // set by a successful AUTH (submission only)
    Transaction tx_;
    std::shared_ptr<LabState> lab_;  // lab listeners only
};

}  // namespace mxgate::server
