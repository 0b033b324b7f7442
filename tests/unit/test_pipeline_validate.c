/* Unit tests for the validate stage on events given as fields
 * (ag_pipeline_validate_fields, the replay's path): the same checks as on a
 * JSON event, and the errors name the field. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/event_types.h"
#include "pipeline/pipeline.h"

#include <stdio.h>
#include <string.h>

#define NOW 1795255200000LL

static void good(struct ag_event *ev)
{
    memset(ev, 0, sizeof *ev);
    snprintf(ev->id, sizeof ev->id, "rba-1");
    ev->type = ag_event_type_find("login.succeeded");
    ev->occurred_at_ms = NOW - 1000;
    snprintf(ev->account_id, sizeof ev->account_id, "u1");
    snprintf(ev->ip, sizeof ev->ip, "2001:db8::1");
    snprintf(ev->user_agent, sizeof ev->user_agent, "Mozilla/5.0");
    snprintf(ev->device_id, sizeof ev->device_id, "d1");
}

static void expect_error(const struct ag_event *in, const char *slug, const char *field)
{
    struct ag_event out;
    struct ag_err err;
    assert_int_equal(ag_pipeline_validate_fields(in, NOW, &out, &err), AG_EINVAL);
    assert_string_equal(err.slug, slug);
    assert_string_equal(err.field, field);
}

static void fields_checked_like_json(void **state)
{
    struct ag_event in, out;
    struct ag_err err;
    good(&in);
    assert_int_equal(ag_pipeline_validate_fields(&in, NOW, &out, &err), 0);
    assert_true(out.ip_v6);
    assert_string_equal(out.role, "customer");
    assert_int_equal(out.received_at_ms, NOW);
    assert_null(out.raw);

    good(&in);
    in.id[0] = '\0';
    expect_error(&in, "missing_field", "id");
    good(&in);
    snprintf(in.id, sizeof in.id, "a b");
    expect_error(&in, "invalid_field", "id");
    good(&in);
    snprintf(in.account_id, sizeof in.account_id, "u/1");
    expect_error(&in, "invalid_field", "account.id");
    good(&in);
    snprintf(in.device_id, sizeof in.device_id, "d\"1");
    expect_error(&in, "invalid_field", "context.device_id");
    good(&in);
    snprintf(in.ip, sizeof in.ip, "999.1.1.1");
    expect_error(&in, "invalid_ip", "context.ip");
    good(&in);
    in.occurred_at_ms = NOW + 25LL * 3600 * 1000;
    expect_error(&in, "invalid_timestamp", "occurred_at");
    good(&in);
    snprintf(in.role, sizeof in.role, "root");
    expect_error(&in, "invalid_field", "account.role");
    good(&in);
    in.type = NULL;
    expect_error(&in, "unknown_event_type", "type");
    good(&in);
    snprintf(in.user_agent, sizeof in.user_agent, "Mozilla/5.0 \xff\xfe");
    expect_error(&in, "invalid_utf8", "context.user_agent");
    good(&in); /* money events carry an amount, which only JSON gives */
    in.type = ag_event_type_find("order.placed");
    expect_error(&in, "missing_field", "properties.amount");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fields_checked_like_json),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
