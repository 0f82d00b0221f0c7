{#
    The secret salt of the pseudonyms (var id_salt, by default the environment
    variable AGENT_SEGMENTS_ID_SALT). A build without one fails here rather
    than showing BI hashes anyone could recompute from the ids. At parse time
    nothing runs, so a placeholder does.
#}
{% macro id_salt() -%}
    {%- set salt = var('id_salt', none) -%}
    {%- if salt is none or (salt | string | trim) == '' -%}
        {%- if execute -%}
            {{ exceptions.raise_compiler_error(
                "No salt for the pseudonyms of user and customer ids: set the environment variable "
                ~ "AGENT_SEGMENTS_ID_SALT (or the var id_salt) to a long random secret, e.g. "
                ~ "export AGENT_SEGMENTS_ID_SALT=$(openssl rand -hex 32). Keep it: another salt gives "
                ~ "other pseudonyms and other alert ids (docs/privacy.md)."
            ) }}
        {%- endif -%}
        {{ return('parse-time placeholder') }}
    {%- endif -%}
    {{ return(salt | string) }}
{%- endmacro %}
