# SPDX-License-Identifier: Apache-2.0
"""Word and emoji lists for agent characters (see ``_character``).

Written for this project. Changing, reordering or removing an entry changes the character every
existing DID maps to, so edits must be deliberate (a known-answer test pins one DID).
"""

from __future__ import annotations

__all__ = ["ADJECTIVES", "EMOJI", "EMOJI_ASCII", "NOUNS"]

# Several entries per line keeps this file reviewable; the formatter would put one per line.
# fmt: off
ADJECTIVES: tuple[str, ...] = (
    "airy", "alpine", "amber", "ancient", "aqua", "arctic", "ashen", "auburn", "azure", "balmy", "blithe",
    "blue", "bold", "bouncy", "brave", "breezy", "bright", "briny", "brisk", "bronze", "bubbly", "buoyant",
    "calm", "cerulean", "chalky", "cheery", "chilly", "clear", "cloudy", "coastal", "cobalt", "cool",
    "copper", "cosmic", "cottony", "cozy", "crested", "crimson", "crisp", "curly", "damp", "dappled",
    "dawning", "deep", "dewy", "distant", "downy", "dreamy", "drifting", "dusky", "dusty", "eager", "earthy",
    "eastern", "ebony", "elder", "emerald", "endless", "feathery", "fervent", "fiery", "fleecy", "fleet",
    "flinty", "floral", "fluent", "fluffy", "foggy", "fragrant", "fresh", "frosty", "gentle", "gilded",
    "glacial", "gleaming", "glossy", "glowing", "golden", "graceful", "grainy", "grand", "grassy", "green",
    "gusty", "hale", "hardy", "hazel", "hazy", "hearty", "hidden", "humble", "hushed", "icy", "indigo",
    "inky", "ivory", "jade", "jaunty", "jolly", "jovial", "keen", "kind", "leafy", "light", "limber", "linen",
    "liquid", "lively", "loamy", "lofty", "lucid", "lucky", "lunar", "lush", "mellow", "merry", "mighty",
    "mild", "milky", "minty", "misty", "molten", "moonlit", "mossy", "mottled", "nautical", "nimble", "noble",
    "nocturnal", "northern", "oaken", "oceanic", "ochre", "olive", "pale", "pastel", "peachy", "pearly",
    "pebbly", "piney", "placid", "plucky", "plush", "poised", "polar", "polished", "pristine", "proud",
    "quaint", "quick", "quiet", "radiant", "rainy", "rapid", "regal", "ripe", "rippled", "roaming", "robust",
    "rocky", "rolling", "rosy", "royal", "ruddy", "rugged", "rural", "russet", "rustic", "rusty", "sable",
    "salty", "sandy", "satin", "scarlet", "scenic", "seaward", "serene", "shady", "shaggy", "sheer", "shiny",
    "silent", "silken", "silky", "silver", "sleek", "sleepy", "slender", "smoky", "smooth", "snowy", "snug",
    "soft", "solar", "solid", "southern", "sparkly", "spiced", "spry", "starry", "steady", "steep", "stellar",
    "stony", "stormy", "stout", "sturdy", "sublime", "sugary", "summery", "sunlit", "sunny", "supple",
    "swift", "tangy", "tawny", "teal", "tender", "tidal", "tranquil", "tropical", "tufted", "twinkly",
    "umber", "vast", "velvet", "verdant", "vernal", "vivid", "wandering", "warm", "watery", "wavy", "western",
    "whimsical", "wild", "willowy", "winding", "windy", "wintry", "wise", "wispy", "wooden", "woolly",
    "woven", "zesty",
)

NOUNS: tuple[str, ...] = (
    "acorn", "agate", "alder", "anchor", "apex", "arbor", "arch", "aspen", "aster", "atoll", "aurora",
    "autumn", "badland", "bamboo", "basalt", "basin", "bay", "bayou", "beach", "beacon", "beck", "birch",
    "blizzard", "blossom", "bluebell", "bluff", "bough", "boulder", "bramble", "branch", "breeze", "briar",
    "bridge", "brook", "butte", "cactus", "cairn", "canopy", "canyon", "cape", "cascade", "cavern", "cedar",
    "channel", "cinder", "cirrus", "clearing", "cliff", "cloud", "clover", "coast", "comet", "compass",
    "conch", "copse", "coral", "cosmos", "cove", "crag", "crater", "creek", "crest", "current", "cypress",
    "dahlia", "dale", "dawn", "dell", "delta", "desert", "dew", "drizzle", "dune", "dusk", "eclipse", "ember",
    "equinox", "estuary", "falls", "fen", "fern", "field", "fir", "fjord", "flint", "foam", "ford", "forest",
    "fountain", "foxglove", "frost", "galaxy", "gale", "garden", "garnet", "geyser", "glacier", "glade",
    "glen", "gorge", "granite", "grotto", "grove", "gully", "gust", "hail", "halo", "harbor", "haven",
    "headland", "heath", "heather", "hedgerow", "hill", "horizon", "inlet", "iris", "island", "isle", "islet",
    "jasper", "jetty", "juniper", "kelp", "knoll", "lagoon", "lake", "lantern", "larch", "laurel", "lava",
    "lavender", "ledge", "lichen", "lily", "lotus", "magma", "magnolia", "maple", "marble", "marigold",
    "marsh", "meadow", "mesa", "meteor", "mist", "monsoon", "moon", "moor", "moss", "nebula", "oasis",
    "obsidian", "orbit", "orchard", "orchid", "outlook", "paddock", "pasture", "path", "peak", "pearl",
    "pebble", "petal", "pier", "pillar", "pine", "pinnacle", "planet", "plateau", "pond", "poppy", "prairie",
    "primrose", "prism", "quarry", "quartz", "rain", "rainbow", "rapids", "ravine", "redwood", "reed", "reef",
    "ridge", "rill", "river", "rivulet", "runnel", "sandbar", "savanna", "sedge", "sequoia", "shale", "shell",
    "shoal", "shore", "sky", "slate", "sleet", "slope", "snow", "solstice", "sound", "spark", "spire",
    "spray", "spring", "spruce", "star", "steppe", "stone", "strait", "stream", "summit", "sunrise", "sunset",
    "surf", "swale", "tarn", "terrace", "thicket", "thistle", "thunder", "thyme", "tide", "tidepool",
    "timber", "topaz", "trail", "tulip", "tundra", "twilight", "vale", "valley", "vine", "vista", "volcano",
    "waterfall", "wave", "weir", "wharf", "willow", "woodland", "zenith", "zephyr",
)

# Every entry is one Unicode codepoint with default emoji presentation (no variation selector needed).
EMOJI_ASCII: dict[str, str] = {
    # animals
    "🦊": "fox", "🐻": "bear", "🐼": "panda", "🐨": "koala", "🐯": "tiger", "🦁": "lion", "🐮": "cow",
    "🐷": "pig", "🐸": "frog", "🐵": "monkey", "🐔": "hen", "🐧": "penguin", "🐦": "bird", "🐤": "chick",
    "🦆": "duck", "🦅": "eagle", "🦉": "owl", "🦇": "bat", "🐺": "wolf", "🐗": "boar", "🐴": "horse",
    "🦄": "unicorn", "🐝": "bee", "🐛": "worm", "🦋": "butterfly", "🐌": "snail", "🐞": "ladybug",
    "🐜": "ant", "🦗": "cricket", "🐢": "turtle", "🐍": "snake", "🦎": "lizard", "🦖": "trex",
    "🦕": "dino", "🐙": "octopus", "🦑": "squid", "🦐": "shrimp", "🦞": "lobster", "🦀": "crab",
    "🐡": "blowfish", "🐠": "reeffish", "🐟": "fish", "🐬": "dolphin", "🐳": "whale", "🦈": "shark",
    "🐊": "croc", "🐆": "leopard", "🦓": "zebra", "🦍": "gorilla", "🐘": "elephant", "🦛": "hippo",
    "🦏": "rhino", "🐪": "camel", "🦒": "giraffe", "🦘": "kangaroo", "🐃": "buffalo", "🐏": "ram",
    "🐑": "sheep", "🦙": "llama", "🐐": "goat", "🦌": "deer", "🐕": "dog", "🐈": "cat", "🐓": "rooster",
    "🦃": "turkey", "🦚": "peacock", "🦜": "parrot", "🦢": "swan", "🐇": "rabbit", "🦝": "raccoon",
    "🦡": "badger", "🦔": "hedgehog", "🐉": "dragon", "🐹": "hamster", "🐚": "shell",
    # plants
    "🌵": "cactus", "🌲": "pine", "🌳": "tree", "🌴": "palm", "🌱": "sprout", "🌿": "herb", "🍀": "clover",
    "🍁": "maple", "🍂": "leaves", "🍃": "leaf", "🌾": "grain", "🌷": "tulip", "🌹": "rose",
    "🌺": "hibiscus", "🌸": "blossom", "🌼": "daisy", "🌻": "sunflower", "💐": "bouquet",
    "🍄": "mushroom", "🌰": "chestnut", "🎋": "bamboo",
    # food
    "🍎": "apple", "🍐": "pear", "🍊": "orange", "🍋": "lemon", "🍌": "banana", "🍉": "melon",
    "🍇": "grapes", "🍓": "berry", "🍒": "cherry", "🍑": "peach", "🥭": "mango", "🍍": "pineapple",
    "🥥": "coconut", "🥝": "kiwi", "🍅": "tomato", "🥑": "avocado", "🥕": "carrot", "🌽": "corn",
    "🥦": "broccoli", "🥜": "peanut", "🍯": "honey", "🧀": "cheese", "🥐": "croissant", "🍞": "bread",
    "🥨": "pretzel", "🍩": "donut", "🍪": "cookie", "🍰": "cake", "🧁": "cupcake", "🍫": "chocolate",
    "🍬": "candy", "🍭": "lollipop", "🍵": "tea", "☕": "coffee", "🍕": "pizza", "🌮": "taco",
    "🍙": "riceball", "🍜": "noodles",
    # sky and weather
    "🌈": "rainbow", "☔": "umbrella", "⛄": "snowman", "⚡": "bolt", "🔥": "fire", "💧": "drop",
    "🌊": "wave", "🌙": "moon", "🌕": "fullmoon", "🌑": "newmoon", "🌞": "sun", "⭐": "star", "🌟": "glow",
    "🌠": "meteor", "🌍": "earth", "🌋": "volcano", "🗻": "mountain", "🌅": "sunrise", "🌄": "dawn",
    "🌇": "sunset", "🌃": "night", "🌌": "galaxy", "🌀": "swirl", "🌁": "fog", "⛅": "partly",
    # objects
    "🎈": "balloon", "🎀": "ribbon", "🎁": "gift", "🔮": "orb", "🧭": "compass", "🧩": "puzzle",
    "🎲": "dice", "🎯": "target", "🛶": "canoe", "⛵": "sailboat", "🚀": "rocket", "🛸": "ufo",
    "🔭": "telescope", "🔬": "microscope", "💡": "bulb", "🔦": "torch", "🏮": "lantern", "🔔": "bell",
    "🎵": "note", "🎸": "guitar", "🎹": "piano", "🎺": "trumpet", "🎻": "violin", "🥁": "drum",
    "🎷": "sax", "📚": "books", "📜": "scroll", "📎": "clip", "🔑": "key", "⚓": "anchor",
    "⌛": "hourglass", "⏰": "alarm", "⌚": "watch", "🧲": "magnet", "🧶": "yarn", "🧵": "thread",
    "🎨": "paint", "🏆": "trophy", "🥇": "medal", "🎪": "circus", "⛺": "tent", "🎠": "carousel",
    "🎡": "wheel", "🚲": "bike", "⚽": "soccer", "🏀": "hoop", "🎾": "tennis", "🏐": "volley",
    "🧸": "teddy", "💎": "gem", "🎐": "chime",
}
# fmt: on

EMOJI: tuple[str, ...] = tuple(EMOJI_ASCII)
