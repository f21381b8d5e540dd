# GPU check for a machine with an NVIDIA GPU and torch (not part of npm test,
# which runs on machines without one): serves test/device/torch-gpu, where one
# API wants gpu: 1 with workers_per_replica: 2, a second API wants the same GPU
# (pending), and a CPU API must see no GPU. Writes its evidence to $OUT.
#   OUT=/tmp/gpu-check bash test/device/gpu-check.sh
# On a machine without npm access, carry node_modules as a tarball in
# .devcarry/nm.tar.xz; it is unpacked when present.
set -u
OUT=${OUT:-$(mktemp -d)}
mkdir -p "$OUT"
[ -f .devcarry/nm.tar.xz ] && tar -xJf .devcarry/nm.tar.xz
node_modules/.bin/node --version
python3 -c "import torch; print('torch', torch.__version__, torch.cuda.is_available())"
nvidia-smi --query-gpu=index,uuid,name,memory.total --format=csv,noheader,nounits
bin/cortex-local serve test/device/torch-gpu --port 8899 --python python3 > $OUT/serve.log 2>&1 &
SERVE=$!
for i in $(seq 1 180); do
  grep -q "api torch-gpu ready" $OUT/serve.log && break
  sleep 1
done
( for i in $(seq 1 16); do curl -s -X POST localhost:8899/torch-gpu -d "{}" & echo; done; wait ) > $OUT/predictions.txt
sleep 1
curl -s -X POST localhost:8899/cpu-only -d '{}' >> $OUT/predictions.txt; echo >> $OUT/predictions.txt
nvidia-smi > $OUT/nvidia-smi.txt
nvidia-smi --query-compute-apps=pid,used_memory --format=csv >> $OUT/nvidia-smi.txt
curl -s localhost:8899/ > $OUT/status.json
bin/cortex-local get --port 8899 > $OUT/get.txt 2>&1
kill -TERM $SERVE; wait $SERVE; echo "serve exit $?" >> $OUT/serve.log
cat $OUT/predictions.txt | head -20; cat $OUT/nvidia-smi.txt; cat $OUT/get.txt; tail -30 $OUT/serve.log
