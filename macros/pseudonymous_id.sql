{#
    The pseudonym BI sees for an id: `<prefix>_` and the first 12 hex digits
    of sha256(salt || '|' || prefix || '|' || id), e.g. cust_3fa1c2d9e0b4.
    Keyed by the secret salt (id_salt), so nobody without it can recompute a
    pseudonym from a guessed id; the prefix is in the hash too, so a user and
    a customer with the same id get unrelated pseudonyms. Null stays null.
#}
{% macro pseudonymous_id(id_expression, prefix) -%}
    {%- if not modules.re.fullmatch('[a-z]{1,16}', prefix) -%}
        {{ exceptions.raise_compiler_error(
            "pseudonymous_id: the prefix must be 1-16 lower-case letters, got '" ~ prefix ~ "'"
        ) }}
    {%- endif -%}
    {%- set key = "'" ~ dbt.escape_single_quotes(agent_segments.id_salt() ~ '|' ~ prefix ~ '|') ~ "'" -%}
    '{{ prefix }}_' || substr({{ agent_segments.sha256_hex(key ~ ' || ' ~ id_expression) }}, 1, 12)
{%- endmacro %}
