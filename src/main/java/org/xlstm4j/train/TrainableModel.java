package org.xlstm4j.train;

/**
 * What the {@link Trainer} needs from a language model: its parameters, a training step's forward and backward pass,
 * an evaluation loss, and a way to save itself. Nothing here knows about xLSTM.
 */
public interface TrainableModel {
  java.util.List<org.xlstm4j.model.Param> parameters();
  /** Forward + backward on a batch of token ids [B,T] with next-token targets [B,T]; ADDS gradients into Param.grad (does not zero); returns the mean cross-entropy (nats). */
  float forwardBackward(int[] inputs, int[] targets, int B, int T);
  /** Mean cross-entropy without gradients (evaluation). */
  float loss(int[] inputs, int[] targets, int B, int T);
  /** Writes the model checkpoint (config.json + model.safetensors) into an existing empty folder. */
  void saveCheckpoint(java.nio.file.Path dir) throws java.io.IOException;
}
