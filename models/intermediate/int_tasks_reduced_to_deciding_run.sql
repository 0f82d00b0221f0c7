{#
    One row per task: the run that decides its outcome (highest attempt, a
    missing attempt counting as 1, then the latest start, then the highest
    task_run_id) and how many runs the task took.

    A table: the views above it (input scoring, required fields) would
    otherwise run again for every model downstream that reads tasks. Each row
    carries its task's runs_fingerprint, a sum of hashes over the task's runs
    (every column of each) and this file: on DuckDB an incremental build
    (issue #4) decides again only the tasks whose fingerprint changed (new
    tasks, tasks that gained, lost or changed a run), replaces their rows and
    deletes tasks left without runs. Elsewhere a table rebuilt at every build
    (synced_table_materialization).
#}
{{ agent_segments.synced_table_config(['task_id'], present_column='task_run_id') }}
{%- set run_fingerprint = agent_segments.summable_hash(
    [agent_segments.whole_row('task_run'), "'" ~ model.get('checksum', {}).get('checksum', '') ~ "'"]
) -%}

with

task_runs as {{ 'not materialized' if is_incremental() else '' }} (

    -- Read twice by an incremental build: once whole, to fingerprint every
    -- task, and for the few tasks to decide. Materializing it would copy
    -- every run's columns.
    select * from {{ ref('int_task_runs_input_scored') }}

),

{% if is_incremental() -%}
task_fingerprints as (

    select
        task_id,
        sum({{ run_fingerprint }}) as runs_fingerprint

    from task_runs as task_run  -- noqa: AL05
    group by task_id

),

stored_task_fingerprints as (

    select
        task_id,
        {{ agent_segments.stored_column_or_null('runs_fingerprint', 'decimal(38, 0)') }}
    from {{ this }}

),

tasks_to_decide as (

    -- A task whose runs changed, and a task now without runs (no current
    -- fingerprint: its stored row is deleted).
    {{ agent_segments.fingerprints_that_differ(
        'task_fingerprints', 'stored_task_fingerprints', 'task_id', 'runs_fingerprint'
    ) }}

),

runs_to_decide as (

    select task_runs.*

    from task_runs

    inner join tasks_to_decide
        on task_runs.task_id = tasks_to_decide.task_id

),
{%- else %}
runs_to_decide as (

    select * from task_runs

),
{%- endif %}

deciding_run_ids as (

    -- One aggregate over the few columns the choice needs, then a join:
    -- cheaper than ranking every run in a window, which sorts (and at 10M
    -- rows spills) every run. Accepted runs are one per task_run_id
    -- (int_task_runs_validated), so the key is unique within a task.
    select
        task_id,
        max_by(
            task_run_id,
            {{ agent_segments.composite_key(['coalesce(attempt, 1)', 'started_at', 'task_run_id']) }}
        ) as task_run_id,
        count(*) as attempt_count,
        sum({{ run_fingerprint }}) as runs_fingerprint

    -- The alias names the whole row, which run_fingerprint hashes.
    from runs_to_decide as task_run  -- noqa: AL05
    group by task_id

),

deciding_runs as (

    select
        runs_to_decide.*,
        deciding_run_ids.attempt_count,
        deciding_run_ids.runs_fingerprint,
        {{ agent_segments.build_started_at() }} as row_built_at

    from runs_to_decide

    inner join deciding_run_ids
        on runs_to_decide.task_run_id = deciding_run_ids.task_run_id

)

select * from deciding_runs
{%- if is_incremental() %}

-- Tasks left without runs are written with only their key
-- (synced_rows_deleted removes them in the same transaction).
union all by name

select task_id
from tasks_to_decide
where runs_fingerprint is null
{%- endif %}
