/* The default field schema as a table, generated from the one list in
 * fields.h so that ids, names, types and help never drift apart. */
#include "rules/fields.h"

const struct ag_rules_field ag_rules_default_fields[] = {
#define AG_RF_ROW_(e, name, type, help) {name, AG_RULES_##type, AG_RF_##e, help},
    AG_RULES_DEFAULT_FIELDS(AG_RF_ROW_)
#undef AG_RF_ROW_
};

const struct ag_rules_schema ag_rules_default_schema = {ag_rules_default_fields, AG_RF_COUNT};
