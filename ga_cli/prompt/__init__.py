"""What the model sees: the ledger's system prompt, piped data framed as data, and the messages
of one turn. Shared by the dataset build, training's evaluation, `ga chat`/`ask` and the server,
so a model is evaluated under exactly the prompt it is used under."""
