"""siteopt: plan the conversion of Bitcoin-mining campuses into AI/HPC colocation."""

__version__ = "0.1.0"
