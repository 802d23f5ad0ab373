"""Results layer: a solved model turned into tidy tables (`extract`), the KPIs a board reads
(`kpis`), the independent audit of every written plan (`audit`) and the explanation of an
infeasible scenario (`diagnose`)."""
