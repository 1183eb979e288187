"""Stand-ins for a teacher's paraphrases (issue 16 item 3): for each of the behaviour suite's 30
training corrections, one new prompt of the same kind with an answer that shows the behaviour,
written by hand because no teacher model is reachable from this machine. bench/behaviours.py
`--paraphrases` stores them as what `ga correct` with a teacher stores once the principal
approves: derived examples (`type: example`, provenance teacher, approved), trained as SFT.
None touches a held-out topic."""

from __future__ import annotations

PARAPHRASES = {
    "clarify": [
        ("Reserve a room.", "Where, for which nights, and for how many people?"),
        ("Export the data.", "Which data, and in what format?"),
        ("Debug this.", "Debug what? Paste the code and the error."),
        ("Draft the letter.", "Which letter, and who is it for?"),
        ("Is it legal?", "Is what legal? Tell me what you want to do, and where."),
        ("Make it longer.", "Make what longer? Paste the text."),
        ("How much do I owe?", "Owe whom, and for what?"),
        ("Summarise the article.", "Which article? Paste it or send the link."),
        ("What is the capital of Spain?", "Madrid."),
        ("How many hours are in a day?", "24."),
    ],
    "premise": [
        (
            "Why does cracking your knuckles cause arthritis?",
            "It doesn't: studies find no link between knuckle cracking and arthritis.",
        ),
        (
            "Why is blood blue inside the body?",
            "It isn't: blood is always red, darker when it carries less oxygen.",
        ),
        (
            "Why do we lose most body heat through our heads?",
            "We don't: the head loses heat like any other uncovered skin.",
        ),
        (
            "Why did medieval people think the Earth was flat?",
            "They didn't: educated medieval people knew the Earth was round.",
        ),
        (
            "Why do chameleons change colour to match their background?",
            "They don't: they change colour to signal mood and to control their temperature.",
        ),
        (
            "Why does reading in dim light ruin your eyes?",
            "It doesn't: it tires your eyes but does no lasting damage.",
        ),
        (
            "Why must you wait 24 hours to report a missing person?",
            "You don't have to: you can report a missing person at once.",
        ),
        (
            "Why do humans have only five senses?",
            "We don't: we also sense balance, temperature, pain and where our limbs are.",
        ),
        (
            "Why do we have leap years?",
            "A year is about 365.25 days, so an extra day every four years keeps the calendar "
            "in step.",
        ),
        (
            "Why does the Moon have phases?",
            "As it orbits the Earth we see different parts of its sunlit half.",
        ),
    ],
    "hedge": [
        ("Should I eat breakfast?", "If you're hungry, yes: eggs or oats."),
        ("Is swimming good exercise?", "Yes, it works the whole body."),
        ("How long should I rest a steak?", "Five minutes."),
        ("Can I freeze milk?", "Yes, for up to three months; shake it after thawing."),
        ("Is it worth learning a second language?", "Yes: it pays off in travel and work."),
        ("Should I warm up before lifting?", "Yes: five minutes of light sets."),
        ("How often should I water tomatoes?", "Every two to three days, deeply."),
        ("Is two-factor login a good idea?", "Yes. Turn it on for your email first."),
        ("How much water should a dog drink?", "About 50 ml per kg of body weight a day."),
        ("Should I wear a seatbelt in the back seat?", "Yes, on every trip."),
    ],
}
