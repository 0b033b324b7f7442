/* The default field schema: every field the shipped rules (rules/default.rules)
 * may name, declared once here with its type and meaning. The pipeline fills
 * a value array indexed by these ids (struct ag_rules_value
 * values[AG_RF_COUNT]) for each event and hands it to ag_rules_eval_values;
 * docs/RULES.md has the same table for people (a unit test keeps the two in
 * step). A field the pipeline cannot compute for an event is left missing
 * (see docs/RULES.md, "Missing values"). Amounts are integers in minor units
 * of event.currency; durations are minutes; counts are plain numbers.
 *
 * To add a field: add one X(...) line; give it a value in the pipeline; add
 * its row to docs/RULES.md. */
#ifndef AG_RULES_FIELDS_H
#define AG_RULES_FIELDS_H

#include "rules/rules.h"

/* X(ENUM_SUFFIX, "name", TYPE, "help") */
#define AG_RULES_DEFAULT_FIELDS(X)                                                                \
    /* the event */                                                                              \
    X(EVENT_TYPE, "event.type", STRING, "the event type, e.g. \"login.failed\" (core/event_types.c)") \
    X(EVENT_LOGIN, "event.login", BOOL, "the event is a login attempt of any outcome")             \
    X(EVENT_MONEY, "event.money", BOOL, "the event moves money or changes where money goes")       \
    X(EVENT_CREDENTIAL, "event.credential", BOOL,                                                 \
      "the event changes how the owner signs in or is reached (password, email, phone, 2-step)")  \
    X(EVENT_ACCOUNT_CHANGE, "event.account_change", BOOL,                                         \
      "a sensitive account change (the owner is alerted)")                                        \
    X(EVENT_SELLER, "event.seller", BOOL, "seller listing activity (listing created, price changed)") \
    X(EVENT_AMOUNT, "event.amount", NUMBER, "properties.amount in minor units of event.currency")  \
    X(EVENT_CURRENCY, "event.currency", STRING, "ISO 4217 currency of event.amount")               \
    /* the account */                                                                            \
    X(ACCOUNT_ROLE, "account.role", STRING, "customer, seller or agent")                          \
    X(ACCOUNT_AGE_DAYS, "account.age_days", NUMBER, "days since the account was first seen")      \
    X(ACCOUNT_MFA_ENABLED, "account.mfa_enabled", BOOL, "the account has 2-step verification on")  \
    X(ACCOUNT_LOGINS, "account.successful_logins", NUMBER,                                        \
      "successful logins in the account's history before this event")                             \
    X(ACCOUNT_MIN_SINCE_RISKY_LOGIN, "account.minutes_since_risky_login", NUMBER,                 \
      "minutes since the latest successful login whose decision was review, challenge or deny or " \
      "whose risk.score reached the review threshold; missing if there was none")                 \
    X(ACCOUNT_MIN_SINCE_CHALLENGED_LOGIN, "account.minutes_since_challenged_login", NUMBER,       \
      "minutes since the latest login that had to pass a challenge; missing if none")             \
    X(ACCOUNT_MIN_SINCE_NEW_DEVICE_LOGIN, "account.minutes_since_new_device_login", NUMBER,       \
      "minutes since the latest successful login from a device new to the account; missing if none") \
    X(ACCOUNT_LAST_LOGIN_NEW_DEVICE, "account.last_login_new_device", BOOL,                       \
      "the latest successful login came from a device new to the account")                        \
    X(ACCOUNT_LAST_LOGIN_RISK, "account.last_login_risk", NUMBER,                                 \
      "risk.score of the latest successful login")                                                \
    X(ACCOUNT_MIN_SINCE_RECOVERY, "account.minutes_since_recovery", NUMBER,                       \
      "minutes since the latest completed recovery (password.reset_completed); missing if none")  \
    X(ACCOUNT_MIN_SINCE_CREDENTIAL_CHANGE, "account.minutes_since_credential_change", NUMBER,     \
      "minutes since the latest password, email, phone or 2-step change before this event; "      \
      "missing if none")                                                                          \
    X(ACCOUNT_ORDERS, "account.orders", NUMBER, "orders the account placed before this event")     \
    X(ACCOUNT_ORDERS_SINCE_RECOVERY, "account.orders_since_recovery", NUMBER,                     \
      "orders placed since the latest completed recovery; missing if never recovered")            \
    X(ACCOUNT_ORDER_AMOUNT_AVG, "account.order_amount_avg", NUMBER,                               \
      "mean amount of the account's earlier orders in event.currency; missing without such orders") \
    X(ACCOUNT_ORDER_AMOUNT_MAX, "account.order_amount_max", NUMBER,                               \
      "largest earlier order in event.currency; missing without such orders")                     \
    /* the session and the device */                                                             \
    X(SESSION_MFA_VERIFIED, "session.mfa_verified", BOOL,                                         \
      "the session doing this passed 2-step verification (false when unknown)")                   \
    X(DEVICE_ID, "device.id", STRING, "the event's device id")                                    \
    X(DEVICE_NEW, "device.new", BOOL, "the device id was never seen on a successful login of the account") \
    X(DEVICE_TRUSTED, "device.trusted", BOOL,                                                     \
      "the device passed 2-step verification on this account before and is still trusted")       \
    /* the network (ipintel) */                                                                  \
    X(IP_ADDRESS, "ip.address", STRING, "the client IP address as text")                          \
    X(IP_V6, "ip.v6", BOOL, "the client address is IPv6")                                         \
    X(IP_COUNTRY, "ip.country", STRING, "ISO 3166-1 alpha-2 country of the address")               \
    X(IP_ASN, "ip.asn", NUMBER, "autonomous system number of the address")                        \
    X(IP_AS_NAME, "ip.as_name", STRING, "name of the autonomous system")                          \
    X(IP_ANONYMOUS_PROXY, "ip.anonymous_proxy", BOOL, "the network is an anonymous proxy or VPN exit") \
    X(IP_HOSTING, "ip.hosting", BOOL, "the network is a hosting or data-centre network")           \
    X(IP_SATELLITE, "ip.satellite", BOOL, "the network is a satellite provider")                  \
    X(IP_DROP, "ip.drop", BOOL, "the network is on a do-not-route list (hijacked or criminal)")    \
    /* the user agent */                                                                         \
    X(UA_BROWSER, "ua.browser", STRING, "browser family, e.g. \"Firefox\"")                       \
    X(UA_OS, "ua.os", STRING, "operating system family, e.g. \"Windows\"")                        \
    X(UA_DEVICE_TYPE, "ua.device_type", STRING, "desktop, mobile, tablet, bot or other")           \
    X(UA_BOT, "ua.bot", BOOL, "the user agent is a crawler, script or automation library")         \
    /* the account profile and the login model (risk/) */                                        \
    X(PROFILE_NEW_IP, "profile.new_ip", BOOL, "the IP was never seen on a successful login of the account") \
    X(PROFILE_NEW_ASN, "profile.new_asn", BOOL, "the ASN was never seen on the account")           \
    X(PROFILE_NEW_COUNTRY, "profile.new_country", BOOL, "the country was never seen on the account") \
    X(PROFILE_NEW_BROWSER, "profile.new_browser", BOOL, "the browser family was never seen on the account") \
    X(RISK_SCORE, "risk.score", NUMBER, "login model risk in [0,1] (higher is riskier)")            \
    X(RISK_REASONS, "risk.reasons", STRLIST,                                                      \
      "reason codes of the unfamiliar features, e.g. \"new_asn\", \"new_country\"")                \
    /* velocity windows (risk/) */                                                               \
    X(VEL_FAILED_ACCOUNT_10M, "velocity.failed_logins_account_10m", NUMBER,                       \
      "failed logins on this account in the last 10 minutes, this one included")                  \
    X(VEL_FAILED_ACCOUNT_1H, "velocity.failed_logins_account_1h", NUMBER,                         \
      "failed logins on this account in the last hour")                                           \
    X(VEL_FAILED_IP_1H, "velocity.failed_logins_ip_1h", NUMBER, "failed logins from this IP in the last hour") \
    X(VEL_FAILED_PREFIX_1H, "velocity.failed_logins_prefix_1h", NUMBER,                           \
      "failed logins from this /24 (IPv4) or /48 (IPv6) in the last hour")                        \
    X(VEL_FAILED_ASN_1H, "velocity.failed_logins_asn_1h", NUMBER,                                 \
      "failed logins from this ASN in the last hour")                                             \
    X(VEL_ACCOUNTS_PER_IP_1H, "velocity.accounts_per_ip_1h", NUMBER,                              \
      "distinct accounts tried from this IP in the last hour")                                    \
    X(VEL_ACCOUNTS_PER_DEVICE_1H, "velocity.accounts_per_device_1h", NUMBER,                      \
      "distinct accounts tried from this device id in the last hour")                             \
    X(VEL_IPS_PER_ACCOUNT_1H, "velocity.ips_per_account_1h", NUMBER,                              \
      "distinct IPs that tried this account in the last hour")                                    \
    X(VEL_FAILED_MFA_1H, "velocity.failed_mfa_account_1h", NUMBER,                                \
      "wrong second-factor or one-time codes on this account in the last hour")                   \
    X(VEL_ORDERS_1H, "velocity.orders_account_1h", NUMBER, "orders by this account in the last hour, this one included") \
    X(VEL_ORDERS_24H, "velocity.orders_account_24h", NUMBER, "orders by this account in the last 24 hours") \
    X(VEL_LISTINGS_1H, "velocity.listings_created_1h", NUMBER, "listings this seller created in the last hour") \
    X(VEL_PRICE_CHANGES_1H, "velocity.price_changes_1h", NUMBER,                                  \
      "listing price changes by this seller in the last hour")                                    \
    /* travel between logins */                                                                  \
    X(TRAVEL_DISTANCE_KM, "travel.distance_km", NUMBER,                                           \
      "distance from the previous successful login's location; missing without one")              \
    X(TRAVEL_SPEED_KMH, "travel.speed_kmh", NUMBER,                                               \
      "that distance over the elapsed time; missing without a previous location")                 \
    /* orders */                                                                                 \
    X(ORDER_NEW_SHIPPING_ADDRESS, "order.new_shipping_address", BOOL,                             \
      "the order ships to an address this account never shipped to")                              \
    X(ORDER_GIFT_CARD, "order.gift_card", BOOL, "the order contains gift cards or stored value")   \
    X(ORDER_DIGITAL_GOODS, "order.digital_goods", BOOL, "the order contains digital goods (keys, codes, downloads)") \
    /* threat intelligence (intel/) */                                                           \
    X(INTEL_MATCH, "intel.match", BOOL,                                                           \
      "an indicator from the threat-intel sets matched the event (IP, network, device, email domain)") \
    X(INTEL_CONFIDENCE, "intel.confidence", NUMBER, "highest confidence (0-100) among the matching indicators") \
    X(INTEL_LABELS, "intel.labels", STRLIST, "labels of the matching indicators, e.g. \"botnet\", \"tor-exit\"")

enum ag_rules_default_field {
#define AG_RF_ENUM_(e, name, type, help) AG_RF_##e,
    AG_RULES_DEFAULT_FIELDS(AG_RF_ENUM_)
#undef AG_RF_ENUM_
    AG_RF_COUNT
};

/* The table above as a schema; ids are the AG_RF_* values. */
extern const struct ag_rules_field ag_rules_default_fields[];
extern const struct ag_rules_schema ag_rules_default_schema;

#endif
