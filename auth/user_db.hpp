// auth/user_db.hpp — `mxgate user add|passwd|del|list` on the configured
// sasldb (SPEC §2), through libsasl2 itself (sasl_setpass, as saslpasswd2
// does), so every mechanism's secrets (e.g. SCRAM's) are stored the way the
// daemon will read them. Listing uses Cyrus's sasldblistusers2: libsasl2 has
// no public call that enumerates a sasldb.
//
// SECURITY: the password is passed in memory only (the CLI reads it from a
// terminal or stdin, never from an argument) and wiped by the caller.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "auth/sasl_server.hpp"

namespace mxgate::auth {

enum class UserOp { add, passwd };

// add: fails if the user exists; passwd: fails unless it exists.
bool set_user_password(const SaslConn::Options& opt, const std::string& user, const std::string& password, UserOp op,
                       std::string& error);
bool delete_user(const SaslConn::Options& opt, const std::string& user, std::string& error);
bool user_exists(const SaslConn::Options& opt, const std::string& user);
// "user@realm" entries, sorted; nullopt with error when the database cannot be read.
std::optional<std::vector<std::string>> list_users(const std::string& sasldb, std::string& error);

}  // namespace mxgate::auth
