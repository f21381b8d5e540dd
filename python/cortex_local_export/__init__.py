"""Serving code of a `cortex-local export`: copied into the exported folder and
run there by an engine (KServe's ModelServer, Ray Serve), never by cortex-local.

It builds the user's unchanged predictor with cortex-local's worker runtime
(`cortex_local_worker`, copied beside it) and answers as cortex-local does.
"""
