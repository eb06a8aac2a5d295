"""The Base Steps pack's steps, one module per step, class named like the
module (``from base_steps_syncpack.steps.QueryREST import QueryREST``)."""
