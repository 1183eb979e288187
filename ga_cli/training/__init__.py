"""Training: recipes (validated YAML), the Unsloth trainer, the model registry and evaluation."""
