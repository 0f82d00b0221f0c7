{#
    The raw task-run contract: each field of a raw record, the JSON kinds it
    accepts and whether it is required. The staging model enforces it; the
    sources YAML documents it. Order matters: the first field with a wrong
    kind names the rejection.
      text:      a string, or an integer kept as its decimal text
      integer:   an integer
      number:    an integer or a decimal number
      timestamp: ISO-8601 text
      object:    a JSON object, or a string holding one
#}
{% macro task_run_contract_fields() -%}
    {{ return([
        {'name': 'task_run_id', 'kind': 'text', 'required': true},
        {'name': 'task_id', 'kind': 'text', 'required': false},
        {'name': 'attempt', 'kind': 'integer', 'required': false},
        {'name': 'agent_name', 'kind': 'text', 'required': false},
        {'name': 'agent_version', 'kind': 'text', 'required': false},
        {'name': 'task_type', 'kind': 'text', 'required': true},
        {'name': 'user_id', 'kind': 'text', 'required': false},
        {'name': 'team', 'kind': 'text', 'required': false},
        {'name': 'customer_id', 'kind': 'text', 'required': false},
        {'name': 'started_at', 'kind': 'timestamp', 'required': true},
        {'name': 'finished_at', 'kind': 'timestamp', 'required': false},
        {'name': 'status', 'kind': 'text', 'required': true},
        {'name': 'input', 'kind': 'object', 'required': false},
        {'name': 'request_text', 'kind': 'text', 'required': false},
        {'name': 'error_type', 'kind': 'text', 'required': false},
        {'name': 'latency_ms', 'kind': 'number', 'required': false},
        {'name': 'cost_usd', 'kind': 'number', 'required': false},
        {'name': 'input_tokens', 'kind': 'integer', 'required': false},
        {'name': 'output_tokens', 'kind': 'integer', 'required': false},
        {'name': 'attributes', 'kind': 'object', 'required': false},
    ]) }}
{%- endmacro %}
