class PythonPredictor:
    def __init__(self, config):
        self.greeting = config.get("greeting", "Hello")

    def predict(self, payload):
        name = payload.get("name", "world") if isinstance(payload, dict) else "world"
        return {"message": "%s, %s!" % (self.greeting, name)}
