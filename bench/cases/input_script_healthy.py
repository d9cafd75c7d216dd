"""Input style: an unmodified training script, healthy (Adam at 1e-3): no problem finding
expected. The healthy twin of `input_script_lr_too_high.py`.
"""

import keras
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

EXPECTED = []
NUMPY_TWIN = "healthy_digits_mlp.py"

if __name__ == "__main__":
    data = load_digits()
    x = data.data.astype("float32") / 16.0
    x_train, x_val, y_train, y_val = train_test_split(x, data.target, test_size=0.25,
                                                      random_state=0, stratify=data.target)
    model = keras.Sequential([
        keras.Input(shape=(64,)),
        keras.layers.Dense(64, activation="relu"),
        keras.layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer=keras.optimizers.Adam(1e-3),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x_train, y_train, validation_data=(x_val, y_val), epochs=15, batch_size=32)
