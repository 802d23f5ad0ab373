"""Results layer: a solved model turned into tidy tables (`extract`, with `lease_table`; the
`Results` bundle in `tables`), the summary, assumptions and KPIs a board reads (`summary`,
`kpis`), the independent audit of every written plan (the `audit` package, one check per
family) and the explanation of an infeasible scenario (`diagnose`)."""
