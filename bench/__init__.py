"""`make bench`: the gateway's cost, measured against the same call posted straight to Bedrock.

`upstream` answers InvokeModel at near-zero cost after a fixed latency, `load` posts the direct
body and the gateway request in interleaved rounds, `report` writes BENCHMARKS.md and the JSON
copy. `__main__` runs the whole benchmark.
"""
