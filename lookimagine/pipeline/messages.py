"""The sentences a person reads when something is missing or refused: one home for each.

Every pipeline, the fake included, and the app take their wording from here.
"""

NO_GENERATOR = "The baseline has no generator: it only looks and matches."
NO_CAPTION_DECODER = "This model has no caption decoder."
NO_IMAGE_GENERATOR = "This model has no image generator."
CAPTION_NOTE = "Caption decoded from the grounded image vector v_l."
DRAWING_NOTE = "Drawn from the grounded text vector t_l by the {branch}."
BEST_OF_NOTE = " Each is the best of {k} drawings, as GXN's own Match (s*) ranks them against the sentence."
REFRAMED = ("Reframed as the training drawings are: background made white, the drawing centred. "
            "An emoji cropped to its edges or on a colour is matched far better so.")
EMPTY_QUERY = "The query is empty: type a sentence that describes a picture."
NO_IMAGE = "No image: upload a picture (PNG, JPEG, GIF, WebP) or pick an example."
NO_KNOWN_WORDS = ("None of the words in the query are in the model's vocabulary ({size:,} words). "
                  "Try one of the examples, or describe colours, shapes and positions.")
NOT_TEXT = "A text query must be a string, not {kind}."
NOT_A_QUERY = "A query must be text or an image, not {kind}."
NOT_WHOLE = "{what} must be a whole number between {low} and {high}."
OUT_OF_RANGE = "{what} must be between {low} and {high}."
UNKNOWN_QUERY_ID = "{query_id!r} is not a query of this gallery ({gallery})."
INTERNAL_ERROR = ("Something went wrong while running the query ({error}). "
                  "The app is still running: try again or another query.")
UNKNOWN_MODEL = "Unknown model {name!r}. Choose one of: {names}."
CANNOT_LOAD = "Could not load the model {name!r}: {error}"
CLICK_A_ROW = "Click a card to run that query."
TRY_FAKE = "Run `python app.py --fake` to try the interface with synthetic data."
