"""Text wing: tokenizer, high-frequency demands, category classifier (and, from their helpers, hot
issues and surge alerts). Import the submodules: ``govml.text.tokenize``, ``govml.text.demands``,
``govml.text.classify``."""
