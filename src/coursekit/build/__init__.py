"""`coursekit build`: the stages from sources to the published outputs.

`pipeline` runs the stages; `publish` stages the outputs and swaps them in at the
end; `workfiles` keeps what incremental builds remember under `_build/.cache/`.
"""
