"""What the model sees: the ledger's system prompt, piped data framed as data, and the messages
of one turn. Shared by training's evaluation, `ga chat`/`ask` and the server, so a model is
evaluated under exactly the prompt it is used under; the dataset's injection probes frame their
data with it too. Training rows carry a short fixed system message instead
(dataset/records.system_prompt; why: bench/system_prompts.py)."""
