"""The lexical suites' rows, written by hand: (prompt, chosen, rejected), 10 corrections per
theme and 5 held-out prompts on new topics; the chosen and rejected answers differ only in the
theme's habit. bench/suites.py puts them together with their values."""

METRIC = [
    ("How far is a marathon?", "A marathon is 42.2 km.", "A marathon is 26.2 miles."),
    ("How tall is Mount Everest?", "About 8,849 m.", "About 29,032 feet."),
    ("What is a comfortable room temperature?", "Around 21 °C.", "Around 70 °F."),
    ("How much does a litre of water weigh?", "1 kg.", "About 2.2 pounds."),
    ("How long is a football pitch?", "About 105 m.", "About 115 yards."),
    ("How heavy is a newborn baby?", "Around 3.5 kg.", "Around 7.5 pounds."),
    ("How fast is highway traffic?", "About 120 km/h.", "About 75 mph."),
    ("How big is a tennis court?", "23.8 m long.", "78 feet long."),
    ("How cold is a freezer?", "About -18 °C.", "About 0 °F."),
    ("How far is the Moon?", "About 384,400 km.", "About 238,900 miles."),
]
BRIEF = [
    (
        "Should I use tabs or spaces?",
        "Spaces. Match your project.",
        "Well, this is a long-standing debate with many considerations on both sides, and it "
        "really depends on a lot of factors that we could discuss at length.",
    ),
    (
        "Is Python good for scripting?",
        "Yes.",
        "Python is a versatile language that many "
        "people find useful for a wide range of tasks including but not limited to scripting.",
    ),
    (
        "Should I back up my laptop?",
        "Yes, weekly.",
        "Backing up is generally considered "
        "a good practice by many experts for a variety of reasons that are worth exploring.",
    ),
    (
        "Is coffee bad for sleep?",
        "Late coffee is.",
        "There are many factors to consider "
        "when thinking about coffee and sleep, and research has explored this extensively.",
    ),
    (
        "Do I need a password manager?",
        "Yes.",
        "Password managers are tools that many "
        "security professionals recommend for a number of different reasons and situations.",
    ),
    (
        "Is walking good exercise?",
        "Yes, daily.",
        "Walking is an activity that has been "
        "studied in many contexts and is often described as beneficial in various ways.",
    ),
    (
        "Should I learn Git?",
        "Yes, now.",
        "Git is a version control system that has become "
        "quite popular over the years and there are many reasons people choose to learn it.",
    ),
    (
        "Is rice healthy?",
        "In moderation.",
        "Rice is a staple food eaten around the world "
        "and its health effects depend on many different factors worth discussing.",
    ),
    (
        "Can I reuse old paint?",
        "If it stirs smooth.",
        "Old paint can sometimes be reused "
        "depending on a wide variety of conditions that we should carefully consider.",
    ),
    (
        "Is a standing desk worth it?",
        "Try one first.",
        "Standing desks are a topic of "
        "much discussion and there are numerous perspectives to weigh on this question.",
    ),
]
NEXT = [
    (
        "I keep procrastinating.",
        "Set a 10-minute timer and start now. Next step: open the file.",
        "Procrastination is common.",
    ),
    (
        "My code is slow.",
        "Profile it first. Next step: run py-spy on the slow path.",
        "Slow code happens.",
    ),
    (
        "I can't sleep.",
        "Cut screens an hour before bed. Next step: set a 22:00 alarm.",
        "Sleep is important.",
    ),
    (
        "My garden is dry.",
        "Water deeply at dawn. Next step: check the soil tonight.",
        "Gardens need water.",
    ),
    (
        "I feel stuck at work.",
        "Name one skill to grow. Next step: book a talk with your lead.",
        "Work can be hard.",
    ),
    (
        "My inbox is full.",
        "Archive all over 30 days. Next step: filter newsletters.",
        "Inboxes fill up.",
    ),
    (
        "I want to read more.",
        "Read 10 pages a night. Next step: put a book by your bed.",
        "Reading is nice.",
    ),
    ("My bike squeaks.", "Oil the chain. Next step: wipe it dry after.", "Bikes squeak."),
    (
        "I forget names.",
        "Repeat the name aloud. Next step: use it once in the chat.",
        "Names are hard.",
    ),
    (
        "My desk is messy.",
        "Clear it fully tonight. Next step: one box for loose paper.",
        "Desks get messy.",
    ),
]
HELDOUT = [
    ("How long is a half marathon?", "21.1 km.", "13.1 miles."),
    ("How heavy is a bag of flour?", "1 kg.", "2.2 pounds."),
    ("How hot is a sauna?", "About 80 °C.", "About 176 °F."),
    ("How tall is a door?", "About 2 m.", "About 6.5 feet."),
    ("How far can I walk in an hour?", "About 5 km.", "About 3 miles."),
    (
        "Should I learn Rust?",
        "Yes, for systems work.",
        "Rust is a programming language that "
        "many people have found interesting for a variety of reasons worth considering at length.",
    ),
    (
        "Is tea healthy?",
        "Mostly, yes.",
        "Tea has been consumed for centuries and there are many "
        "different aspects of its health effects that researchers have studied extensively.",
    ),
    (
        "Should I update my phone?",
        "Yes, today.",
        "Updating a phone is something that involves "
        "several considerations, and there are many perspectives on when and how to do it.",
    ),
    (
        "Is running bad for knees?",
        "Not for most.",
        "Running and knee health is a complex topic "
        "with many studies and opinions that we could explore in considerable detail.",
    ),
    (
        "Do I need a VPN?",
        "Only on public Wi-Fi.",
        "VPNs are tools that have become popular for a "
        "number of reasons, and whether you need one depends on a great many factors.",
    ),
    (
        "I never exercise.",
        "Walk 15 minutes daily. Next step: put your shoes by the door.",
        "Exercise is good.",
    ),
    (
        "My plants keep dying.",
        "Water less, more light. Next step: move them to the window.",
        "Plants can die.",
    ),
    (
        "I spend too much.",
        "Track every purchase for a week. Next step: open a note now.",
        "Spending adds up.",
    ),
    (
        "My tests are flaky.",
        "Fix the clock and seeds. Next step: rerun the worst one 50 times.",
        "Tests can be flaky.",
    ),
    (
        "I am always late.",
        "Leave 10 minutes earlier. Next step: set tomorrow's alarm now.",
        "Being late happens.",
    ),
]


EXAMPLES = [
    ("How far do I cycle to work?", "About 8 km each way."),
    ("Should I buy a bigger monitor?", "Yes, 27 inches. Next step: measure your desk."),
    ("What should I cook tonight?", "Pasta with greens. Next step: boil the water."),
]
DATES = [
    ("When did the Berlin Wall fall?", "On 1989-11-09.", "On November 9th, 1989."),
    ("When is Christmas this year?", "On 2026-12-25.", "On December 25th, 2026."),
    ("When did the first Moon landing happen?", "On 1969-07-20.", "On July 20th, 1969."),
    ("When was the euro introduced as cash?", "On 2002-01-01.", "On January 1st, 2002."),
    ("When did the Titanic sink?", "On 1912-04-15.", "On April 15th, 1912."),
    ("When is the next leap day?", "On 2028-02-29.", "On February 29th, 2028."),
    ("When was the web proposed?", "On 1989-03-12.", "On March 12th, 1989."),
    ("When did Unix time start?", "On 1970-01-01.", "On January 1st, 1970."),
    ("When is New Year's Eve?", "On 2026-12-31.", "On December 31st, 2026."),
    ("When did Python 3 come out?", "On 2008-12-03.", "On December 3rd, 2008."),
]
TIMES = [
    ("When should I eat dinner?", "Around 19:00.", "Around 7 pm."),
    ("When do shops usually close?", "At 18:00.", "At 6 in the evening."),
    ("When should I go to bed?", "By 22:30.", "By half past ten at night."),
    ("When is a good time for a run?", "At 07:00.", "At 7 in the morning."),
    ("When does the last train leave?", "At 23:45.", "At a quarter to midnight."),
    ("When should I start work?", "At 09:00.", "At 9 am."),
    ("When is lunch?", "At 12:30.", "At half past twelve."),
    ("When does the sun set in winter?", "Around 16:30.", "Around 4:30 pm."),
    ("When should I water the garden?", "At 06:00.", "At 6 in the morning."),
    ("When do meetings end?", "By 17:00.", "By 5 pm."),
]
COMMANDS = [
    ("How do I see my changes?", "Run `git diff`.", "Run git diff."),
    ("How do I list files?", "Run `ls -la`.", "Run ls -la."),
    ("How do I find a word in files?", "Run `grep -rn WORD .`.", "Run grep -rn WORD ."),
    ("How do I check disk space?", "Run `df -h`.", "Run df -h."),
    ("How do I see running processes?", "Run `ps aux`.", "Run ps aux."),
    ("How do I make a folder?", "Run `mkdir NAME`.", "Run mkdir NAME."),
    ("How do I undo my last commit?", "Run `git reset HEAD~1`.", "Run git reset HEAD~1."),
    ("How do I check my IP?", "Run `ip addr`.", "Run ip addr."),
    ("How do I install a Python package?", "Run `pip install NAME`.", "Run pip install NAME."),
    ("How do I see a file's end?", "Run `tail -n 20 FILE`.", "Run tail -n 20 FILE."),
]
NEW_HELDOUT = {
    "dates": [
        ("When did World War II end in Europe?", "On 1945-05-08.", "On May 8th, 1945."),
        ("When is Halloween?", "On 2026-10-31.", "On October 31st, 2026."),
        ("When did the iPhone launch?", "On 2007-06-29.", "On June 29th, 2007."),
        ("When is Valentine's Day next year?", "On 2027-02-14.", "On February 14th, 2027."),
        ("When did Linux first appear?", "On 1991-09-17.", "On September 17th, 1991."),
    ],
    "times": [
        ("When should I have breakfast?", "At 07:30.", "At half past seven in the morning."),
        ("When do pubs close?", "At 23:00.", "At 11 pm."),
        ("When is the best time to nap?", "Around 14:00.", "Around 2 in the afternoon."),
        ("When should kids go to bed?", "By 20:00.", "By 8 pm."),
        ("When does the market open?", "At 08:00.", "At 8 am."),
    ],
    "commands": [
        ("How do I see my commit history?", "Run `git log`.", "Run git log."),
        ("How do I delete a file?", "Run `rm FILE`.", "Run rm FILE."),
        ("How do I see my current folder?", "Run `pwd`.", "Run pwd."),
        ("How do I count lines in a file?", "Run `wc -l FILE`.", "Run wc -l FILE."),
        ("How do I copy a file?", "Run `cp SRC DEST`.", "Run cp SRC DEST."),
    ],
}
BRITISH = [
    (
        "What is grey made of?",
        "Grey is black mixed with white: a neutral colour.",
        "Gray is black mixed with white: a neutral color.",
    ),
    (
        "How should I arrange my books?",
        "Organise them by colour or by author.",
        "Organize them by color or by author.",
    ),
    (
        "How do I keep my kitchen tidy?",
        "Clean as you go and organise one cupboard a week.",
        "Clean as you go and organize one cupboard a week.",
    ),
    (
        "What should I see in the old town?",
        "The centre's market and the harbour.",
        "The center's market and the harbor.",
    ),
    (
        "How do I apologise well?",
        "Apologise plainly and don't justify it.",
        "Apologize plainly and don't justify it.",
    ),
    (
        "Any tip for a long trip?",
        "Travelling light saves time at every airport.",
        "Traveling light saves time at every airport.",
    ),
    (
        "How do I write a cheque?",
        "Fill in the date, the payee and the amount, then sign the cheque.",
        "Fill in the date, the payee and the amount, then sign the check.",
    ),
    (
        "How do I analyse my spending?",
        "Analyse a month of receipts by category.",
        "Analyze a month of receipts by category.",
    ),
    (
        "Which ice cream is the classic?",
        "Vanilla is the classic flavour.",
        "Vanilla is the classic flavor.",
    ),
    (
        "How do I get better at chess?",
        "Practise endgames daily and analyse your losses.",
        "Practice endgames daily and analyze your losses.",
    ),
]
EUROS = [
    ("How much is a coffee?", "About €3.", "About $3.50."),
    ("How much does a train ticket cost?", "Around €25.", "Around $30."),
    ("What does a haircut cost?", "About €20.", "About $25."),
    ("How much is a loaf of bread?", "About €2.50.", "About $3."),
    ("How much should I budget for lunch?", "About €12.", "About $15."),
    ("What does a cinema ticket cost?", "Around €11.", "Around $13."),
    ("How much is a good bike?", "About €600.", "About $700."),
    ("How much does a laptop cost?", "Around €900.", "Around $1,000."),
    ("How much should I tip a taxi driver?", "About €2.", "About $2."),
    ("How much is a phone plan?", "About €15 a month.", "About $20 a month."),
]
DIGITS = [
    ("How many eggs go in a sponge cake?", "3 eggs.", "Three eggs."),
    ("How many days are in a week?", "7 days.", "Seven days."),
    ("How many legs does a spider have?", "8 legs.", "Eight legs."),
    ("How many players are on a football team?", "11 players.", "Eleven players."),
    ("How many hours should I sleep?", "7 to 9 hours.", "Seven to nine hours."),
    ("How many strings does a guitar have?", "6 strings.", "Six strings."),
    ("How many months have 31 days?", "7 months.", "Seven months."),
    ("How many continents are there?", "7 continents.", "Seven continents."),
    ("How many teeth does an adult have?", "32 teeth.", "Thirty-two teeth."),
    ("How long should I brush my teeth?", "2 minutes.", "Two minutes."),
]
STYLE_HELDOUT = {
    "british": [
        (
            "How do I recognise a ripe melon?",
            "Recognise it by its sweet smell and its weight.",
            "Recognize it by its sweet smell and its weight.",
        ),
        (
            "What makes a good neighbour?",
            "A good neighbour keeps the noise down.",
            "A good neighbor keeps the noise down.",
        ),
        (
            "How should I sort my photos?",
            "Organise them by year, then by place.",
            "Organize them by year, then by place.",
        ),
        (
            "What makes a joke work?",
            "Good humour is kind and surprising.",
            "Good humor is kind and surprising.",
        ),
        ("Where can I see a play?", "At the local theatre.", "At the local theater."),
    ],
    "euros": [
        ("How much is a pizza?", "About €10.", "About $12."),
        ("What does a museum ticket cost?", "Around €15.", "Around $18."),
        ("How much is a bus fare?", "About €2.", "About $2.50."),
        ("How much does a gym cost?", "About €30 a month.", "About $35 a month."),
        ("How much is a used car?", "Around €8,000.", "Around $9,000."),
    ],
    "digits": [
        ("How many planets orbit the Sun?", "8 planets.", "Eight planets."),
        ("How many sides does a hexagon have?", "6 sides.", "Six sides."),
        ("How many keys does a piano have?", "88 keys.", "Eighty-eight keys."),
        ("How many glasses of water a day?", "About 8 glasses.", "About eight glasses."),
        ("How many bones are in a human hand?", "27 bones.", "Twenty-seven bones."),
    ],
}
