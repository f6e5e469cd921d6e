"""runnel.keras: the Keras API over Runnel graphs. `from runnel import keras` runs ordinary
Keras code: Sequential and functional models, compile, fit with callbacks and progress bars,
evaluate, predict, save and load. A model is a Runnel graph (keras.backend.get_session()),
so a trained model freezes with tf.graph_util like any other."""
from runnel.keras import activations
from runnel.keras import backend
from runnel.keras import callbacks
from runnel.keras import datasets
from runnel.keras import initializers
from runnel.keras import layers
from runnel.keras import losses
from runnel.keras import metrics
from runnel.keras import models
from runnel.keras import optimizers
from runnel.keras import regularizers
from runnel.keras import utils
from runnel.keras.base_layer import Input
from runnel.keras.models import Sequential
from runnel.keras.training import Model

__version__ = "2.x (runnel)"
